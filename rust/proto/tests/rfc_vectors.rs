//! Published test vectors of the primitives, as the crate is built:
//! RFC 7748 §5.2 and §6.1 (X25519), RFC 5869 A.1–A.3 (HKDF-SHA256),
//! RFC 4231 cases 1–4, 6, 7 (HMAC-SHA256). Values copied from the RFCs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::hex;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use x25519_dalek::{x25519, PublicKey, StaticSecret};

fn h32(s: &str) -> [u8; 32] {
    hex(s).try_into().unwrap()
}

#[test]
fn rfc7748_5_2_single_vectors() {
    let cases = [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ];
    for (k, u, out) in cases {
        assert_eq!(x25519(h32(k), h32(u)), h32(out));
        // The same through the types the session uses.
        let shared = StaticSecret::from(h32(k)).diffie_hellman(&PublicKey::from(h32(u)));
        assert_eq!(shared.as_bytes(), &h32(out));
    }
}

fn iterate(n: usize) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[0] = 9;
    let mut u = k;
    for _ in 0..n {
        let r = x25519(k, u);
        u = k;
        k = r;
    }
    k
}

#[test]
fn rfc7748_5_2_one_iteration() {
    assert_eq!(
        iterate(1),
        h32("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")
    );
}

#[test]
fn rfc7748_5_2_thousand_iterations() {
    assert_eq!(
        iterate(1000),
        h32("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
    );
}

#[test]
fn rfc7748_6_1_diffie_hellman() {
    let a = StaticSecret::from(h32(
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    ));
    let b = StaticSecret::from(h32(
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
    ));
    let pa = PublicKey::from(&a);
    let pb = PublicKey::from(&b);
    assert_eq!(
        pa.as_bytes(),
        &h32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    );
    assert_eq!(
        pb.as_bytes(),
        &h32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    );
    let k = h32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    assert_eq!(a.diffie_hellman(&pb).as_bytes(), &k);
    assert_eq!(b.diffie_hellman(&pa).as_bytes(), &k);
}

fn seq(from: u8, to: u8) -> Vec<u8> {
    (from..=to).collect()
}

#[test]
fn rfc5869_hkdf_sha256_cases_1_to_3() {
    struct Case {
        ikm: Vec<u8>,
        salt: Option<Vec<u8>>,
        info: Vec<u8>,
        prk: &'static str,
        okm: &'static str,
    }
    let cases = [
        Case {
            ikm: vec![0x0b; 22],
            salt: Some(seq(0x00, 0x0c)),
            info: seq(0xf0, 0xf9),
            prk: "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
            okm: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        },
        Case {
            ikm: seq(0x00, 0x4f),
            salt: Some(seq(0x60, 0xaf)),
            info: seq(0xb0, 0xff),
            prk: "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
            okm: "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
        },
        Case {
            ikm: vec![0x0b; 22],
            salt: None,
            info: Vec::new(),
            prk: "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
            okm: "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        let (prk, kdf) = Hkdf::<Sha256>::extract(c.salt.as_deref(), &c.ikm);
        assert_eq!(prk.as_slice(), &hex(c.prk)[..], "case {} PRK", i + 1);
        let want = hex(c.okm);
        let mut okm = vec![0u8; want.len()];
        kdf.expand(&c.info, &mut okm).unwrap();
        assert_eq!(okm, want, "case {} OKM", i + 1);
    }
}

#[test]
fn rfc4231_hmac_sha256() {
    let long_key = vec![0xaa; 131];
    let mut key4 = seq(0x01, 0x19);
    key4.truncate(25);
    let cases: [(Vec<u8>, Vec<u8>, &str); 6] = [
        (vec![0x0b; 20], b"Hi There".to_vec(), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (b"Jefe".to_vec(), b"what do ya want for nothing?".to_vec(), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (vec![0xaa; 20], vec![0xdd; 50], "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (key4, vec![0xcd; 50], "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (
            long_key.clone(),
            b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
        (
            long_key,
            b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        ),
    ];
    for (i, (key, data, want)) in cases.iter().enumerate() {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(data);
        assert_eq!(
            mac.finalize().into_bytes().as_slice(),
            &hex(want)[..],
            "case index {i}"
        );
    }
}

#[test]
fn selftest_passes() {
    assert_eq!(smkex_proto::selftest::run(), Ok(()));
}
