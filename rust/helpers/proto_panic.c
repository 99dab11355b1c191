// SPDX-License-Identifier: GPL-2.0
/*
 * The protocol core is a separate Rust crate graph with its own `core`
 * (scripts/build-proto.sh); its panic handler lands here. The core is built
 * so that no input reaches a panic, so reaching this is a bug in smkex: stop
 * the calling thread with a BUG() report rather than continue with
 * inconsistent protocol state.
 */
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/printk.h>

#include "smkex_helpers.h"

void __noreturn smkex_proto_panic(void)
{
	pr_emerg("smkex: protocol core panicked\n");
	BUG();
}
