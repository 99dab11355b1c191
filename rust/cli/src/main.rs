//! `smkex`: an nc-like client and server over MPTCP with the in-kernel
//! SMKEX handshake switched on (smkex.ko must be loaded).
//!
//! ```text
//! smkex server PORT [--family 4|6] [--count N] [--sink FILE] [COMMON]
//! smkex client ADDR PORT [--family 4|6] [--bytes N] [--peer-addr ADDR]... [--reconnect]
//!              [--write-size N] [--nonblock] [--pattern TEXT] [COMMON]
//! COMMON: [--timeout-ms MS] [--export LABEL] [--show-key] [--no-smkex] [--records]
//! ```
//!
//! The client connects, waits for the handshake, prints the outcome, sends
//! `--bytes` pseudo-random bytes, half-closes and reads the echo. The server
//! accepts `--count` connections one after another and echoes each one.
//! Both print, as `name: value` lines: the state, the failure reason and
//! errno, which addresses carried channel 1 and channel 2, the handshake
//! time and a fingerprint of the session key (the first 8 bytes of its
//! SHA-256; the key itself only with `--show-key`), then the byte counts and
//! SHA-256 of what was sent and received. With `--reconnect` the client
//! then disconnects (`connect(AF_UNSPEC)`), prints the outcome again and
//! tries to connect the same socket once more (`reconnect: ...`). With
//! `--records` the module encrypts the data (`SMKEX_RECORDS`); the report
//! adds the record counts, and `--show-key` the record secret. The client
//! writes in `--write-size` pieces (default 64 KiB), with `--nonblock`
//! through non-blocking sends that wait in poll(POLLOUT) when refused, and
//! with `--pattern` sends TEXT repeated instead of pseudo-random bytes. A
//! server with `--sink FILE` writes what it reads to FILE instead of echoing
//! it (without `--records` there, the records as they arrive). Exit
//! status: 0 if every
//! handshake completed and the transfer worked, 1 otherwise, 2 for usage.

use std::io::{self, Read, Write};
use std::mem::{size_of, size_of_val, zeroed};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::process::ExitCode;

use sha2::{Digest, Sha256};
use smkex_uapi::{
    reason, state, SmkexChannelInfo, SmkexExport, SmkexInfo, SmkexPeerAddr, SMKEX_ENABLE,
    SMKEX_EXPORT, SMKEX_INFO, SMKEX_KEY_LEN, SMKEX_MAX_PEER_ADDRS, SMKEX_PEER_ADDRS,
    SMKEX_RECORDS, SMKEX_RECORD_SECRET, SMKEX_SESSION_KEY, SMKEX_TIMEOUT_MS, SOL_SMKEX,
};

const IPPROTO_MPTCP: i32 = 262;
const CHUNK: usize = 64 * 1024;

struct Options {
    family: u8,
    timeout_ms: Option<i32>,
    export_label: Option<String>,
    show_key: bool,
    smkex: bool,
    bytes: u64,
    count: u32,
    peer_addrs: Vec<IpAddr>,
    reconnect: bool,
    records: bool,
    write_size: usize,
    nonblock: bool,
    pattern: Option<String>,
    sink: Option<String>,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: smkex server PORT [--family 4|6] [--count N] [--sink FILE] [COMMON]\n       \
         smkex client ADDR PORT [--family 4|6] [--bytes N] [--peer-addr ADDR]... [--reconnect]\n       \
                      [--write-size N] [--nonblock] [--pattern TEXT] [COMMON]\n       \
         COMMON: [--timeout-ms MS] [--export LABEL] [--show-key] [--no-smkex] [--records]"
    );
    ExitCode::from(2)
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        family: 4,
        timeout_ms: None,
        export_label: None,
        show_key: false,
        smkex: true,
        bytes: 0,
        count: 1,
        peer_addrs: Vec::new(),
        reconnect: false,
        records: false,
        write_size: CHUNK,
        nonblock: false,
        pattern: None,
        sink: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--family" => {
                o.family = match value()?.as_str() {
                    "4" => 4,
                    "6" => 6,
                    v => return Err(format!("--family: 4 or 6, not {v}")),
                }
            }
            "--timeout-ms" => o.timeout_ms = Some(number(value()?)?),
            "--export" => o.export_label = Some(value()?.clone()),
            "--bytes" => o.bytes = number(value()?)?,
            "--count" => o.count = number(value()?)?,
            "--peer-addr" => {
                let a = value()?;
                o.peer_addrs.push(a.parse().map_err(|_| format!("--peer-addr: not an address: {a}"))?);
                if o.peer_addrs.len() > SMKEX_MAX_PEER_ADDRS {
                    return Err(format!("--peer-addr: at most {SMKEX_MAX_PEER_ADDRS}"));
                }
            }
            "--show-key" => o.show_key = true,
            "--no-smkex" => o.smkex = false,
            "--reconnect" => o.reconnect = true,
            "--records" => o.records = true,
            "--nonblock" => o.nonblock = true,
            "--sink" => o.sink = Some(value()?.clone()),
            "--write-size" => {
                o.write_size = number(value()?)?;
                if o.write_size == 0 || o.write_size > CHUNK {
                    return Err(format!("--write-size: 1..={CHUNK}"));
                }
            }
            "--pattern" => {
                let p = value()?.clone();
                if p.is_empty() {
                    return Err("--pattern: not empty".into());
                }
                o.pattern = Some(p);
            }
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    Ok(o)
}

fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("not a number: {s}"))
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn set_int(fd: RawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: `value` outlives the call and its size is passed.
    check(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const i32).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    })
    .map(|_| ())
}

/// SMKEX_PEER_ADDRS: the server's other addresses the client trusts as the
/// remote end of channel 2 (same port as connect()).
fn set_peer_addrs(fd: RawFd, addrs: &[IpAddr]) -> io::Result<()> {
    let list: Vec<SmkexPeerAddr> = addrs
        .iter()
        .map(|a| {
            let mut p = SmkexPeerAddr::default();
            match a {
                IpAddr::V4(v4) => {
                    p.family = libc::AF_INET as u16;
                    p.addr[..4].copy_from_slice(&v4.octets());
                }
                IpAddr::V6(v6) => {
                    p.family = libc::AF_INET6 as u16;
                    p.addr = v6.octets();
                }
            }
            p
        })
        .collect();
    // SAFETY: `list` outlives the call and its byte size is passed.
    check(unsafe {
        libc::setsockopt(
            fd,
            SOL_SMKEX,
            SMKEX_PEER_ADDRS,
            list.as_ptr().cast(),
            size_of_val(list.as_slice()) as libc::socklen_t,
        )
    })
    .map(|_| ())
}

/// getsockopt into `T`; returns the length the kernel wrote.
fn get<T>(fd: RawFd, name: i32, value: &mut T) -> io::Result<usize> {
    let mut len = size_of::<T>() as libc::socklen_t;
    // SAFETY: `value` is valid for writes of `len` bytes; T is plain data.
    check(unsafe { libc::getsockopt(fd, SOL_SMKEX, name, (value as *mut T).cast(), &mut len) })?;
    Ok(len as usize)
}

/// A new MPTCP socket with SMKEX set up as asked.
fn mptcp_socket(o: &Options) -> io::Result<RawFd> {
    let domain = if o.family == 6 { libc::AF_INET6 } else { libc::AF_INET };
    // SAFETY: plain socket(2).
    let fd = check(unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, IPPROTO_MPTCP) })?;
    let setup = || -> io::Result<()> {
        if o.smkex {
            set_int(fd, SOL_SMKEX, SMKEX_ENABLE, 1)?;
            if let Some(ms) = o.timeout_ms {
                set_int(fd, SOL_SMKEX, SMKEX_TIMEOUT_MS, ms)?;
            }
            if !o.peer_addrs.is_empty() {
                set_peer_addrs(fd, &o.peer_addrs)?;
            }
            if o.records {
                set_int(fd, SOL_SMKEX, SMKEX_RECORDS, 1)?;
            }
        }
        Ok(())
    };
    if let Err(e) = setup() {
        // SAFETY: fd is ours and not used again.
        unsafe { libc::close(fd) };
        return Err(e);
    }
    Ok(fd)
}

fn sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all-zero is valid.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            let sin = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6 = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

fn reason_name(code: u8) -> &'static str {
    match code {
        reason::NONE => "none",
        reason::BINDING_HASH_MISMATCH => "binding hash mismatch (attack on one path)",
        reason::MALFORMED_RECORD => "malformed record",
        reason::WRONG_CHANNEL => "record on the wrong channel",
        reason::UNEXPECTED_RECORD => "unexpected record",
        reason::OUT_OF_ORDER_RECORD => "out-of-order record",
        reason::DUPLICATE_RECORD => "duplicate record",
        reason::LOW_ORDER_KEY => "low-order key share",
        reason::BAD_FINISHED => "bad Finished",
        reason::TIMEOUT => "timeout",
        reason::PEER_CLOSED => "peer closed",
        reason::CHANNEL_INTEGRITY => "channel integrity (bytes on the wrong subflow)",
        reason::LOCAL_ERROR => "local error",
        reason::INTERNAL => "internal error",
        reason::NO_INDEPENDENT_PATH => "no independent path for channel 2",
        reason::CHANNEL_CLOSED => "a channel's subflow closed",
        reason::RECORD_AUTH => "a record failed authentication",
        reason::RECORD_MALFORMED => "malformed data record",
        reason::RECORD_TRUNCATED => "the data stream was truncated",
        reason::RECORD_LIMIT => "record sequence space exhausted",
        _ => "unknown",
    }
}

fn state_name(s: u8) -> &'static str {
    match s {
        state::OFF => "off",
        state::ENABLED => "enabled",
        state::HANDSHAKE => "handshake",
        state::COMPLETE => "complete",
        state::FAILED => "failed",
        _ => "unknown",
    }
}

fn endpoint(family: u16, addr: &[u8; 16], port: u16) -> String {
    let port = u16::from_be(port);
    let ip: IpAddr = if i32::from(family) == libc::AF_INET6 {
        let v6 = std::net::Ipv6Addr::from(*addr);
        v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
    } else {
        IpAddr::from([addr[0], addr[1], addr[2], addr[3]])
    };
    SocketAddr::new(ip, port).to_string()
}

fn channel_line(c: &SmkexChannelInfo) -> String {
    if c.family == 0 {
        return "none".into();
    }
    format!(
        "{} -> {}",
        endpoint(c.family, &c.local_addr, c.local_port),
        endpoint(c.family, &c.remote_addr, c.remote_port)
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Prints the handshake's outcome; returns whether it completed.
fn report(fd: RawFd, o: &Options, errno: Option<&io::Error>) -> bool {
    let mut info = SmkexInfo::default();
    if let Err(e) = get(fd, SMKEX_INFO, &mut info) {
        println!("state: unknown (SMKEX_INFO: {e})");
        return false;
    }
    println!("state: {}", state_name(info.state));
    println!("reason: {} {}", info.reason, reason_name(info.reason));
    if let Some(e) = errno {
        println!("errno: {} {}", e.raw_os_error().unwrap_or(0), e);
    }
    println!("channel1: {}", channel_line(&info.channel[0]));
    println!("channel2: {}", channel_line(&info.channel[1]));
    println!("handshake_us: {}", info.duration_us);
    println!("channel1_up_us: {}", info.channel_up_us[0]);
    println!("channel2_up_us: {}", info.channel_up_us[1]);
    if info.records != 0 {
        println!("records: sent {} received {}", info.records_sent, info.records_received);
    }
    if info.state != state::COMPLETE {
        return false;
    }
    let mut key = [0u8; SMKEX_KEY_LEN];
    match get(fd, SMKEX_SESSION_KEY, &mut key) {
        Ok(_) => {
            println!("fingerprint: {}", hex(&Sha256::digest(key)[..8]));
            if o.show_key {
                println!("key: {}", hex(&key));
            }
        }
        Err(e) => println!("fingerprint: none (SMKEX_SESSION_KEY: {e})"),
    }
    if o.show_key {
        match get(fd, SMKEX_RECORD_SECRET, &mut key) {
            Ok(_) => println!("record_secret: {}", hex(&key)),
            Err(e) => println!("record_secret: none (SMKEX_RECORD_SECRET: {e})"),
        }
    }
    key.fill(0);
    println!("transcript_hash: {}", hex(&info.transcript_hash));
    if let Some(label) = &o.export_label {
        // SAFETY: plain data; all-zero is valid.
        let mut ex: SmkexExport = unsafe { zeroed() };
        let label = &label.as_bytes()[..label.len().min(ex.label.len())];
        ex.label[..label.len()].copy_from_slice(label);
        ex.label_len = label.len() as u8;
        ex.out_len = 32;
        match get(fd, SMKEX_EXPORT, &mut ex) {
            Ok(_) => println!("export: {}", hex(&ex.out[..32])),
            Err(e) => println!("export: none (SMKEX_EXPORT: {e})"),
        }
    }
    true
}

/// Blocks until the socket is writable: with SMKEX, once the handshake ended.
fn wait_writable(fd: RawFd) -> io::Result<()> {
    let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
    // SAFETY: one valid pollfd.
    check(unsafe { libc::poll(&mut p, 1, -1) })?;
    Ok(())
}

/// The pseudo-random bytes the client sends (xorshift; reproducible).
struct Stream(u64);
impl Stream {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0 as u8;
        }
    }
}

fn client(addr: &str, port: &str, o: &Options) -> Result<bool, String> {
    let ip: IpAddr = addr.parse().map_err(|_| format!("not an address: {addr}"))?;
    let target = SocketAddr::new(ip, number(port)?);
    let fd = mptcp_socket(o).map_err(|e| format!("socket: {e}"))?;
    // SAFETY: fd is a fresh socket owned by the TcpStream from here on.
    let mut stream = unsafe { TcpStream::from_raw_fd(fd) };
    let (ss, len) = sockaddr(&target);
    // SAFETY: ss holds a valid address of `len` bytes.
    if let Err(e) = check(unsafe { libc::connect(fd, (&ss as *const libc::sockaddr_storage).cast(), len) }) {
        println!("connect: {e}");
        if o.smkex {
            report(fd, o, Some(&e));
        }
        return Ok(false);
    }
    wait_writable(fd).map_err(|e| format!("poll: {e}"))?;
    let ok = !o.smkex || report(fd, o, None);
    // The echo is read while we send: with both directions' buffers full, a
    // sender that read only at the end would wait for itself.
    let mut reader = stream.try_clone().map_err(|e| format!("dup: {e}"))?;
    let echo = std::thread::spawn(move || drain(&mut reader, None));
    let mut gen = Stream(0x5eed_5eed_5eed_5eed);
    let mut buf = vec![0u8; o.write_size];
    let (mut sent, mut sent_hash) = (0u64, Sha256::new());
    while sent < o.bytes {
        let n = (o.bytes - sent).min(o.write_size as u64) as usize;
        match &o.pattern {
            Some(p) => {
                for (i, b) in buf[..n].iter_mut().enumerate() {
                    *b = p.as_bytes()[(sent as usize + i) % p.len()];
                }
            }
            None => gen.fill(&mut buf[..n]),
        }
        let written = if o.nonblock { write_nonblocking(fd, &buf[..n]) } else { stream.write_all(&buf[..n]) };
        if let Err(e) = written {
            println!("send: {e}");
            if o.smkex && ok {
                report(fd, o, Some(&e));
            }
            // SAFETY: fd is open; this ends the reader's wait.
            unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
            let _ = echo.join();
            return Ok(false);
        }
        sent_hash.update(&buf[..n]);
        sent += n as u64;
    }
    println!("sent: {sent} sha256 {}", hex(&sent_hash.finalize()));
    // SAFETY: fd is open.
    unsafe { libc::shutdown(fd, libc::SHUT_WR) };
    let (received, hash, err) = echo.join().map_err(|_| "the reader thread panicked".to_string())?;
    println!("received: {received} sha256 {hash}");
    if let Some(e) = &err {
        println!("recv: {e}");
        if o.smkex {
            report(fd, o, Some(e));
        }
    }
    if o.reconnect {
        reconnect(fd, &target, o);
    }
    Ok(ok && err.is_none())
}

/// `--reconnect`: disconnect with connect(AF_UNSPEC), report, connect again.
fn reconnect(fd: RawFd, target: &SocketAddr, o: &Options) {
    // SAFETY: plain data; all-zero is valid.
    let mut unspec: libc::sockaddr = unsafe { zeroed() };
    unspec.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
    // SAFETY: `unspec` is a valid address of the size passed.
    let r = check(unsafe { libc::connect(fd, &unspec, size_of::<libc::sockaddr>() as libc::socklen_t) });
    println!("disconnect: {}", r.map_or_else(|e| e.to_string(), |_| "ok".to_string()));
    if o.smkex {
        report(fd, o, None);
    }
    let (ss, len) = sockaddr(target);
    // SAFETY: ss holds a valid address of `len` bytes.
    match check(unsafe { libc::connect(fd, (&ss as *const libc::sockaddr_storage).cast(), len) }) {
        Ok(_) => println!("reconnect: connected"),
        Err(e) => println!("reconnect: {} {e}", e.raw_os_error().unwrap_or(0)),
    }
}

/// Reads to the end, echoing into `echo` if given: (bytes, sha256, error).
/// Writes all of `buf` with MSG_DONTWAIT sends, waiting in poll(POLLOUT)
/// whenever one is refused with EAGAIN.
fn write_nonblocking(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: `buf` is readable for its length.
        let n = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
        if n >= 0 {
            buf = &buf[n as usize..];
            continue;
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::WouldBlock => wait_writable(fd)?,
            io::ErrorKind::Interrupted => {}
            _ => return Err(e),
        }
    }
    Ok(())
}

fn drain(stream: &mut TcpStream, mut echo: Option<&mut dyn Write>) -> (u64, String, Option<io::Error>) {
    let mut buf = vec![0u8; CHUNK];
    let (mut total, mut hash) = (0u64, Sha256::new());
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hash.update(&buf[..n]);
                total += n as u64;
                if let Some(out) = echo.as_mut() {
                    if let Err(e) = out.write_all(&buf[..n]) {
                        return (total, hex(&hash.finalize()), Some(e));
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return (total, hex(&hash.finalize()), Some(e)),
        }
    }
    (total, hex(&hash.finalize()), None)
}

fn server(port: &str, o: &Options) -> Result<bool, String> {
    let fd = mptcp_socket(o).map_err(|e| format!("socket: {e}"))?;
    // SAFETY: fd is a fresh socket owned by the listener from here on.
    let listener = unsafe { TcpListener::from_raw_fd(fd) };
    set_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1).map_err(|e| format!("SO_REUSEADDR: {e}"))?;
    let any: IpAddr = if o.family == 6 { "::".parse().unwrap_or(IpAddr::from([0u8; 16])) } else { IpAddr::from([0u8; 4]) };
    let (ss, len) = sockaddr(&SocketAddr::new(any, number(port)?));
    // SAFETY: ss holds a valid address of `len` bytes.
    check(unsafe { libc::bind(fd, (&ss as *const libc::sockaddr_storage).cast(), len) })
        .map_err(|e| format!("bind: {e}"))?;
    // SAFETY: fd is a bound socket.
    check(unsafe { libc::listen(fd, 64) }).map_err(|e| format!("listen: {e}"))?;
    println!("listening: {port}");
    io::stdout().flush().ok();
    let mut all_ok = true;
    for _ in 0..o.count {
        let (mut conn, peer) = match listener.accept() {
            Ok(c) => c,
            Err(e) => {
                println!("accept: {e}");
                all_ok = false;
                continue;
            }
        };
        println!("peer: {peer}");
        let cfd = conn.as_raw_fd();
        // Readable (or failed) only once the handshake ended.
        wait_readable(cfd);
        let mut ok = !o.smkex || report(cfd, o, None);
        let mut out: Box<dyn Write> = match &o.sink {
            Some(path) => Box::new(std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?),
            None => Box::new(conn.try_clone().map_err(|e| format!("dup: {e}"))?),
        };
        let (received, hash, err) = drain(&mut conn, Some(&mut *out));
        drop(out);
        println!("received: {received} sha256 {hash}");
        if o.sink.is_none() {
            println!("sent: {received} sha256 {hash}");
        }
        if let Some(e) = err {
            println!("recv: {e}");
            if o.smkex {
                report(cfd, o, Some(&e));
            }
            ok = false;
        }
        // SAFETY: cfd is open.
        unsafe { libc::shutdown(cfd, libc::SHUT_WR) };
        all_ok &= ok;
        io::stdout().flush().ok();
    }
    Ok(all_ok)
}

fn wait_readable(fd: RawFd) {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, -1) };
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("server") if args.len() >= 2 => {
            parse_options(&args[2..]).and_then(|o| server(&args[1], &o))
        }
        Some("client") if args.len() >= 3 => {
            parse_options(&args[3..]).and_then(|o| client(&args[1], &args[2], &o))
        }
        _ => return usage(),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("smkex: {e}");
            ExitCode::from(2)
        }
    }
}
