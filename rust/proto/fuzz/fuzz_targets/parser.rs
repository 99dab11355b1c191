//! Fuzzes the one-shot record parser and the header-prefix checker: no
//! panic, never reads past the input, and what parses re-encodes to the
//! same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smkex_proto::record::{self, RecordType, HEADER_LEN, MAX_RECORD_LEN};
use smkex_proto::FailureReason;

fuzz_target!(|data: &[u8]| {
    // Every prefix gives a consistent verdict: once a prefix fails, every
    // longer prefix fails the same way.
    let mut failed = None;
    for n in 0..=data.len().min(MAX_RECORD_LEN + 1) {
        let prefix = &data[..n];
        let verdict = record::check_header_prefix(prefix);
        if let Some(reason) = failed {
            assert_eq!(verdict, Err(reason));
        } else if let Err(reason) = verdict {
            assert_eq!(reason, FailureReason::MalformedRecord);
            failed = Some(reason);
        }
    }
    match record::parse(data) {
        Ok(Some((rec, used))) => {
            assert!(used <= data.len());
            assert_eq!(used, rec.ty.record_len());
            assert_eq!(rec.body.len(), rec.ty.body_len());
            assert_eq!(RecordType::from_u8(data[0]), Some(rec.ty));
            let mut buf = [0u8; MAX_RECORD_LEN];
            let n = record::encode(rec.ty, rec.body, &mut buf).unwrap();
            assert_eq!(&buf[..n], &data[..used]);
        }
        Ok(None) => {
            // Need more: a valid prefix shorter than its record.
            let ty = RecordType::from_u8(data.first().copied().unwrap_or(1)).unwrap();
            assert!(data.len() < ty.record_len());
            assert!(failed.is_none());
        }
        Err(reason) => {
            assert_eq!(reason, FailureReason::MalformedRecord);
            assert!(failed.is_some() || data.len() >= HEADER_LEN);
        }
    }
});
