/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C helpers' functions called from Rust (rust/smkex_mod.rs declares the
 * same signatures in its `ffi` module) and from the protocol core object.
 */
#ifndef SMKEX_HELPERS_H
#define SMKEX_HELPERS_H

#include <linux/compiler.h>

/* module_params.c: the handshake_timeout_ms module parameter. */
unsigned int smkex_param_handshake_timeout_ms(void);

/* proto_panic.c: the protocol core's panic handler lands here. */
void __noreturn smkex_proto_panic(void);

/* sock.c: the setsockopt hook and the per-socket takeover. */
int smkex_sock_init(void);
void smkex_sock_exit(void);

#endif
