//! The address rules of outbound HTTP from scripts: which addresses a script may
//! connect to. Everything that is not a public unicast address is refused, with a
//! category that names why (never the address itself).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Loopback,
    Private,
    LinkLocal,
    /// Cloud metadata services (EC2, ECS, EKS): credentials live there.
    Metadata,
    /// 100.64.0.0/10, carrier-grade NAT.
    SharedAddressSpace,
    Multicast,
    Unspecified,
    Broadcast,
    Reserved,
    Documentation,
    Benchmarking,
    /// fc00::/7.
    UniqueLocal,
    /// `::ffff:a.b.c.d`, `::a.b.c.d`, NAT64, 6to4, Teredo: IPv6 forms that carry
    /// an IPv4 address (and could reach it).
    Ipv4InIpv6,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Loopback => "loopback address",
            Category::Private => "private address",
            Category::LinkLocal => "link-local address",
            Category::Metadata => "cloud metadata address",
            Category::SharedAddressSpace => "shared (CGNAT) address",
            Category::Multicast => "multicast address",
            Category::Unspecified => "unspecified address",
            Category::Broadcast => "broadcast address",
            Category::Reserved => "reserved address",
            Category::Documentation => "documentation address",
            Category::Benchmarking => "benchmarking address",
            Category::UniqueLocal => "unique local (ULA) address",
            Category::Ipv4InIpv6 => "IPv4-embedding IPv6 address",
        }
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits)
    };
    (u128::from(ip) & mask) == (u128::from(net) & mask)
}

/// The metadata services' own addresses (also inside link-local or ULA ranges,
/// named apart because they are the classic target).
const METADATA_V4: [[u8; 4]; 3] = [
    [169, 254, 169, 254], // EC2 instance metadata
    [169, 254, 170, 2],   // ECS task metadata and credentials
    [169, 254, 170, 23],  // EKS pod identity agent
];

fn metadata_v6() -> [Ipv6Addr; 2] {
    [
        "fd00:ec2::254".parse().expect("literal"), // EC2 IMDS over IPv6
        "fd00:ec2::23".parse().expect("literal"),  // EKS pod identity over IPv6
    ]
}

/// `None` for a public unicast address a script may reach.
pub fn classify(ip: IpAddr) -> Option<Category> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Category> {
    let o = ip.octets();
    if METADATA_V4.contains(&o) {
        return Some(Category::Metadata);
    }
    let rules: &[([u8; 4], u32, Category)] = &[
        ([0, 0, 0, 0], 8, Category::Unspecified),
        ([10, 0, 0, 0], 8, Category::Private),
        ([100, 64, 0, 0], 10, Category::SharedAddressSpace),
        ([127, 0, 0, 0], 8, Category::Loopback),
        ([169, 254, 0, 0], 16, Category::LinkLocal),
        ([172, 16, 0, 0], 12, Category::Private),
        ([192, 0, 0, 0], 24, Category::Reserved),
        ([192, 0, 2, 0], 24, Category::Documentation),
        ([192, 88, 99, 0], 24, Category::Reserved),
        ([192, 168, 0, 0], 16, Category::Private),
        ([198, 18, 0, 0], 15, Category::Benchmarking),
        ([198, 51, 100, 0], 24, Category::Documentation),
        ([203, 0, 113, 0], 24, Category::Documentation),
        ([224, 0, 0, 0], 4, Category::Multicast),
        ([255, 255, 255, 255], 32, Category::Broadcast),
        ([240, 0, 0, 0], 4, Category::Reserved),
    ];
    rules
        .iter()
        .find(|(net, bits, _)| in_v4(ip, *net, *bits))
        .map(|(_, _, c)| *c)
}

fn classify_v6(ip: Ipv6Addr) -> Option<Category> {
    if metadata_v6().contains(&ip) {
        return Some(Category::Metadata);
    }
    if ip.is_unspecified() {
        return Some(Category::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Category::Loopback);
    }
    let net = |s: &str| s.parse::<Ipv6Addr>().expect("literal");
    let rules: &[(&str, u32, Category)] = &[
        ("::ffff:0:0", 96, Category::Ipv4InIpv6),  // IPv4-mapped
        ("::", 96, Category::Ipv4InIpv6),          // IPv4-compatible (deprecated)
        ("64:ff9b::", 96, Category::Ipv4InIpv6),   // NAT64
        ("64:ff9b:1::", 48, Category::Ipv4InIpv6), // local-use NAT64
        ("2002::", 16, Category::Ipv4InIpv6),      // 6to4
        ("2001::", 32, Category::Ipv4InIpv6),      // Teredo
        ("2001:db8::", 32, Category::Documentation),
        ("3fff::", 20, Category::Documentation),
        ("2001:2::", 48, Category::Benchmarking),
        ("100::", 64, Category::Reserved), // discard-only
        ("fc00::", 7, Category::UniqueLocal),
        ("fe80::", 10, Category::LinkLocal),
        ("fec0::", 10, Category::Private), // site-local (deprecated)
        ("ff00::", 8, Category::Multicast),
    ];
    if let Some((_, _, c)) = rules.iter().find(|(n, bits, _)| in_v6(ip, net(n), *bits)) {
        return Some(*c);
    }
    // Only global unicast (2000::/3) is reachable.
    if !in_v6(ip, net("2000::"), 3) {
        return Some(Category::Reserved);
    }
    None
}

/// An IPv4 address in any spelling a URL host may use: dotted with 1 to 4 parts,
/// each decimal, octal (`0` prefix) or hex (`0x`), the last part filling the
/// remaining bytes (`127.1`, `2130706433`, `0x7f000001`, `017700000001`). `None`
/// when `host` is not such a literal.
pub fn parse_ipv4_literal(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(parts.len());
    for p in &parts {
        let (digits, radix) =
            if let Some(hex) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
                (hex, 16)
            } else if p.len() > 1 && p.starts_with('0') {
                (&p[1..], 8)
            } else {
                (*p, 10)
            };
        let v = if digits.is_empty() && radix == 16 {
            0
        } else {
            u64::from_str_radix(digits, radix).ok()?
        };
        values.push(v);
    }
    let (last, head) = values.split_last()?;
    if head.iter().any(|v| *v > 255) {
        return None;
    }
    let room = 8 * (4 - head.len() as u32);
    if room < 64 && *last >= (1u64 << room) {
        return None;
    }
    let mut n: u64 = 0;
    for (i, v) in head.iter().enumerate() {
        n |= v << (24 - 8 * i as u32);
    }
    n |= last;
    Some(Ipv4Addr::from(n as u32))
}

/// A host as it appears in a URL: an IPv6 literal in brackets, an IPv4 literal in
/// any spelling, or `None` for a name.
pub fn literal_ip(host: &str) -> Option<IpAddr> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return Some(IpAddr::V6(v6));
    }
    parse_ipv4_literal(host).map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(s: &str) -> Option<Category> {
        classify(s.parse().unwrap())
    }

    #[test]
    fn every_internal_range_is_refused_with_its_category() {
        use Category::*;
        let table: &[(&str, Category)] = &[
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("::1", Loopback),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("169.254.169.254", Metadata),
            ("169.254.170.2", Metadata),
            ("169.254.170.23", Metadata),
            ("fd00:ec2::254", Metadata),
            ("169.254.10.10", LinkLocal),
            ("fe80::1", LinkLocal),
            ("100.64.0.1", SharedAddressSpace),
            ("100.127.255.254", SharedAddressSpace),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("ff02::1", Multicast),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("::", Unspecified),
            ("255.255.255.255", Broadcast),
            ("240.0.0.1", Reserved),
            ("192.0.0.8", Reserved),
            ("192.0.2.10", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("2001:db8::1", Documentation),
            ("198.18.0.1", Benchmarking),
            ("fc00::1", UniqueLocal),
            ("fd12:3456::1", UniqueLocal),
            ("::ffff:127.0.0.1", Ipv4InIpv6),
            ("::ffff:10.0.0.1", Ipv4InIpv6),
            ("::ffff:8.8.8.8", Ipv4InIpv6),
            ("::127.0.0.1", Ipv4InIpv6),
            ("64:ff9b::a9fe:a9fe", Ipv4InIpv6),
            ("2002:a9fe:a9fe::1", Ipv4InIpv6),
            ("2001:0:4136:e378::1", Ipv4InIpv6),
        ];
        for (ip, want) in table {
            assert_eq!(cat(ip), Some(*want), "{ip}");
        }
    }

    #[test]
    fn public_unicast_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:81b::200e",
        ] {
            assert_eq!(cat(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv4_literals_parse_in_every_spelling() {
        let lo = Some(Ipv4Addr::new(127, 0, 0, 1));
        for spelling in [
            "127.0.0.1",
            "127.1",
            "127.0.1",
            "0x7f000001",
            "0X7F000001",
            "2130706433",
            "017700000001",
            "0177.0.0.1",
            "0x7f.1",
            "127.0.0.1.",
        ] {
            assert_eq!(parse_ipv4_literal(spelling), lo, "{spelling}");
        }
        assert_eq!(
            parse_ipv4_literal("0xa9fea9fe"),
            Some(Ipv4Addr::new(169, 254, 169, 254))
        );
        assert_eq!(parse_ipv4_literal("10.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        for not in [
            "example.com",
            "256.1.1.1",
            "1.2.3.4.5",
            "4294967296",
            "09",
            "1..2",
            "",
        ] {
            assert_eq!(parse_ipv4_literal(not), None, "{not}");
        }
        assert_eq!(
            literal_ip("[::ffff:127.0.0.1]"),
            Some("::ffff:127.0.0.1".parse().unwrap())
        );
        assert_eq!(literal_ip("localhost"), None);
    }
}
