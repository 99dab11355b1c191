// SPDX-License-Identifier: GPL-2.0
/*
 * Module metadata and parameters. The 6.12 `module!` macro has no support
 * for parameters or a version string, so they live here; the Rust side reads
 * the values through the accessor below.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "smkex_helpers.h"

MODULE_VERSION("0.1.0");

#define SMKEX_TIMEOUT_MIN_MS 100U
#define SMKEX_TIMEOUT_MAX_MS 600000U

static unsigned int handshake_timeout_ms = 10000;

/* Reject out-of-range values with -EINVAL at insmod and on sysfs writes. */
static int timeout_param_set(const char *val, const struct kernel_param *kp)
{
	unsigned int ms;
	int err = kstrtouint(val, 0, &ms);

	if (err)
		return err;
	if (ms < SMKEX_TIMEOUT_MIN_MS || ms > SMKEX_TIMEOUT_MAX_MS)
		return -EINVAL;
	WRITE_ONCE(handshake_timeout_ms, ms);
	return 0;
}

static const struct kernel_param_ops timeout_param_ops = {
	.set = timeout_param_set,
	.get = param_get_uint,
};

module_param_cb(handshake_timeout_ms, &timeout_param_ops, &handshake_timeout_ms, 0644);
__MODULE_PARM_TYPE(handshake_timeout_ms, "uint");
MODULE_PARM_DESC(handshake_timeout_ms,
		 "Default bound on a whole handshake in ms for sockets that do not set SMKEX_TIMEOUT_MS (100..600000, default 10000)");

/* The current default handshake timeout, in milliseconds. */
unsigned int smkex_param_handshake_timeout_ms(void)
{
	return READ_ONCE(handshake_timeout_ms);
}
