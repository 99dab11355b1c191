// SPDX-License-Identifier: GPL-2.0
/*
 * The record layer's AEAD: ChaCha20-Poly1305 (RFC 8439) from the kernel's
 * lib/crypto, as WireGuard uses it (the x86-64 SIMD code, when usable, runs
 * inside the library). In place, linear buffers; the 96-bit nonce is
 * 00 00 00 00 || LE64(nonce) (Documentation/protocol.md §10).
 */
#include <crypto/chacha20poly1305.h>

#include "smkex_glue.h"

void smkex_glue_aead_seal(u8 *buf, size_t pt_len, const u8 *ad, size_t ad_len, u64 nonce,
			  const u8 *key)
{
	chacha20poly1305_encrypt(buf, buf, pt_len, ad, ad_len, nonce, key);
}

/* The tag is checked (in constant time) before anything is decrypted. */
bool smkex_glue_aead_open(u8 *buf, size_t ct_len, const u8 *ad, size_t ad_len, u64 nonce,
			  const u8 *key)
{
	return chacha20poly1305_decrypt(buf, buf, ct_len, ad, ad_len, nonce, key);
}
