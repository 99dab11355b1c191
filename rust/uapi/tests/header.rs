//! Every constant and struct layout of the Rust crate against the C header,
//! compiled and printed by the host's C compiler.
use smkex_uapi::*;
use std::collections::HashMap;
use std::process::Command;

const HEADER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/uapi");

/// Compiles a C program that prints `NAME VALUE` lines for each expression.
fn c_values(exprs: &[&str]) -> HashMap<String, i64> {
    // One directory per call: the tests run in parallel.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("smkex-uapi-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut src = String::from("#include <stdio.h>\n#include <stddef.h>\n#include <linux/smkex.h>\nint main(void) {\n");
    for e in exprs {
        src.push_str(&format!("  printf(\"%s %lld\\n\", \"{e}\", (long long)({e}));\n"));
    }
    src.push_str("  return 0;\n}\n");
    let c = dir.join("values.c");
    let exe = dir.join("values");
    std::fs::write(&c, src).unwrap();
    let status = Command::new("cc")
        .args(["-Wall", "-Werror", "-I", HEADER_DIR, "-o"])
        .arg(&exe)
        .arg(&c)
        .status()
        .expect("a C compiler (cc) is needed for this test");
    assert!(status.success(), "the header test program does not compile");
    let out = Command::new(&exe).output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn constants_match_the_header() {
    let rust: &[(&str, i64)] = &[
        ("SOL_SMKEX", SOL_SMKEX.into()),
        ("SMKEX_ENABLE", SMKEX_ENABLE.into()),
        ("SMKEX_TIMEOUT_MS", SMKEX_TIMEOUT_MS.into()),
        ("SMKEX_INFO", SMKEX_INFO.into()),
        ("SMKEX_SESSION_KEY", SMKEX_SESSION_KEY.into()),
        ("SMKEX_EXPORT", SMKEX_EXPORT.into()),
        ("SMKEX_TIMEOUT_MIN_MS", SMKEX_TIMEOUT_MIN_MS.into()),
        ("SMKEX_TIMEOUT_MAX_MS", SMKEX_TIMEOUT_MAX_MS.into()),
        ("SMKEX_KEY_LEN", SMKEX_KEY_LEN as i64),
        ("SMKEX_HASH_LEN", SMKEX_HASH_LEN as i64),
        ("SMKEX_PROTOCOL_VERSION", SMKEX_PROTOCOL_VERSION.into()),
        ("SMKEX_INFO_SIZE_V1", SMKEX_INFO_SIZE_V1 as i64),
        ("SMKEX_EXPORT_MAX_LABEL", SMKEX_EXPORT_MAX_LABEL as i64),
        ("SMKEX_EXPORT_MAX_CONTEXT", SMKEX_EXPORT_MAX_CONTEXT as i64),
        ("SMKEX_EXPORT_MAX_OUT", SMKEX_EXPORT_MAX_OUT as i64),
        ("SMKEX_STATE_OFF", state::OFF.into()),
        ("SMKEX_STATE_ENABLED", state::ENABLED.into()),
        ("SMKEX_STATE_HANDSHAKE", state::HANDSHAKE.into()),
        ("SMKEX_STATE_COMPLETE", state::COMPLETE.into()),
        ("SMKEX_STATE_FAILED", state::FAILED.into()),
        ("SMKEX_ROLE_NONE", role::NONE.into()),
        ("SMKEX_ROLE_CLIENT", role::CLIENT.into()),
        ("SMKEX_ROLE_SERVER", role::SERVER.into()),
        ("SMKEX_ROLE_LISTENER", role::LISTENER.into()),
        ("SMKEX_REASON_NONE", reason::NONE.into()),
        ("SMKEX_REASON_BINDING_HASH_MISMATCH", reason::BINDING_HASH_MISMATCH.into()),
        ("SMKEX_REASON_MALFORMED_RECORD", reason::MALFORMED_RECORD.into()),
        ("SMKEX_REASON_WRONG_CHANNEL", reason::WRONG_CHANNEL.into()),
        ("SMKEX_REASON_UNEXPECTED_RECORD", reason::UNEXPECTED_RECORD.into()),
        ("SMKEX_REASON_OUT_OF_ORDER_RECORD", reason::OUT_OF_ORDER_RECORD.into()),
        ("SMKEX_REASON_DUPLICATE_RECORD", reason::DUPLICATE_RECORD.into()),
        ("SMKEX_REASON_LOW_ORDER_KEY", reason::LOW_ORDER_KEY.into()),
        ("SMKEX_REASON_BAD_FINISHED", reason::BAD_FINISHED.into()),
        ("SMKEX_REASON_TIMEOUT", reason::TIMEOUT.into()),
        ("SMKEX_REASON_PEER_CLOSED", reason::PEER_CLOSED.into()),
        ("SMKEX_REASON_CHANNEL_INTEGRITY", reason::CHANNEL_INTEGRITY.into()),
        ("SMKEX_REASON_LOCAL_ERROR", reason::LOCAL_ERROR.into()),
        ("SMKEX_REASON_INTERNAL", reason::INTERNAL.into()),
        ("SMKEX_REASON_NO_INDEPENDENT_PATH", reason::NO_INDEPENDENT_PATH.into()),
        ("SMKEX_REASON_CHANNEL_CLOSED", reason::CHANNEL_CLOSED.into()),
        ("SMKEX_REASON_RECORD_AUTH", reason::RECORD_AUTH.into()),
        ("SMKEX_REASON_RECORD_MALFORMED", reason::RECORD_MALFORMED.into()),
        ("SMKEX_REASON_RECORD_TRUNCATED", reason::RECORD_TRUNCATED.into()),
        ("SMKEX_REASON_RECORD_LIMIT", reason::RECORD_LIMIT.into()),
        ("SMKEX_PEER_ADDRS", SMKEX_PEER_ADDRS.into()),
        ("SMKEX_RECORDS", SMKEX_RECORDS.into()),
        ("SMKEX_RECORD_SECRET", SMKEX_RECORD_SECRET.into()),
        ("SMKEX_MAX_PEER_ADDRS", SMKEX_MAX_PEER_ADDRS as i64),
    ];
    let names: Vec<&str> = rust.iter().map(|(n, _)| *n).collect();
    let c = c_values(&names);
    for (name, value) in rust {
        assert_eq!(c[*name], *value, "{name}");
    }
}

#[test]
fn struct_layouts_match_the_header() {
    use core::mem::{offset_of, size_of};
    let rust: &[(&str, usize)] = &[
        ("sizeof(struct smkex_info)", size_of::<SmkexInfo>()),
        ("offsetof(struct smkex_info, timeout_ms)", offset_of!(SmkexInfo, timeout_ms)),
        ("offsetof(struct smkex_info, duration_us)", offset_of!(SmkexInfo, duration_us)),
        ("offsetof(struct smkex_info, channel)", offset_of!(SmkexInfo, channel)),
        ("offsetof(struct smkex_info, transcript_hash)", offset_of!(SmkexInfo, transcript_hash)),
        ("offsetof(struct smkex_info, channel_up_us)", offset_of!(SmkexInfo, channel_up_us)),
        ("offsetof(struct smkex_info, records)", offset_of!(SmkexInfo, records)),
        ("offsetof(struct smkex_info, records_sent)", offset_of!(SmkexInfo, records_sent)),
        ("offsetof(struct smkex_info, records_received)", offset_of!(SmkexInfo, records_received)),
        ("sizeof(struct smkex_channel_info)", size_of::<SmkexChannelInfo>()),
        ("offsetof(struct smkex_channel_info, local_addr)", offset_of!(SmkexChannelInfo, local_addr)),
        ("offsetof(struct smkex_channel_info, remote_addr)", offset_of!(SmkexChannelInfo, remote_addr)),
        ("sizeof(struct smkex_peer_addr)", size_of::<SmkexPeerAddr>()),
        ("offsetof(struct smkex_peer_addr, port)", offset_of!(SmkexPeerAddr, port)),
        ("offsetof(struct smkex_peer_addr, reserved)", offset_of!(SmkexPeerAddr, reserved)),
        ("offsetof(struct smkex_peer_addr, addr)", offset_of!(SmkexPeerAddr, addr)),
        ("sizeof(struct smkex_export)", size_of::<SmkexExport>()),
        ("offsetof(struct smkex_export, label)", offset_of!(SmkexExport, label)),
        ("offsetof(struct smkex_export, context)", offset_of!(SmkexExport, context)),
        ("offsetof(struct smkex_export, out)", offset_of!(SmkexExport, out)),
    ];
    let names: Vec<&str> = rust.iter().map(|(n, _)| *n).collect();
    let c = c_values(&names);
    for (name, value) in rust {
        assert_eq!(c[*name], *value as i64, "{name}");
    }
}
