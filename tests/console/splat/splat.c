// SPDX-License-Identifier: GPL-2.0
/*
 * Produces one real kernel report on load, for recording the console logs
 * that tests/console/ judges (tests/console/record-logs.sh). Never loaded by
 * the test suites themselves.
 *
 *   insmod smkex_splat.ko kind=warn|kasan|leak
 */
#include <linux/bug.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *kind = "warn";
module_param(kind, charp, 0444);
MODULE_PARM_DESC(kind, "report to produce: warn, kasan or leak");

static void *leaked;

static noinline void use_after_free(void)
{
	char *p = kmalloc(32, GFP_KERNEL);
	volatile char c;

	if (!p)
		return;
	kfree(p);
	c = READ_ONCE(p[8]);	/* KASAN: slab-use-after-free */
	(void)c;
}

static int __init splat_init(void)
{
	if (!strcmp(kind, "warn")) {
		WARN(1, "smkex_splat: deliberate warning\n");
	} else if (!strcmp(kind, "kasan")) {
		use_after_free();
	} else if (!strcmp(kind, "leak")) {
		leaked = kmalloc(256, GFP_KERNEL);
		leaked = NULL;	/* the only reference is gone: kmemleak reports it */
	} else {
		return -EINVAL;
	}
	return 0;
}

static void __exit splat_exit(void)
{
}

module_init(splat_init);
module_exit(splat_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("smkex test helper: deliberate WARN, KASAN and kmemleak reports");
