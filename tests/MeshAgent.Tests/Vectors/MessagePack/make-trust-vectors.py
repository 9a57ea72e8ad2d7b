#!/usr/bin/env python3
"""Independent model of the trust record encodings, used to produce trust-records.txt.

Written from the layout comments in agent/MeshAgent.Core/Trust/*.cs, not from the C# code:
its own minimal canonical MessagePack encoder (spec.md), Ed25519 from the Python
'cryptography' package and BLAKE2s from hashlib. If the C# encoder and this script ever
disagree, one of them misreads the documented layout.

Run: python3 make-trust-vectors.py > trust-records.txt
"""
import hashlib
import ipaddress
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def uint(v):
    assert v >= 0
    if v <= 0x7F:
        return bytes([v])
    if v <= 0xFF:
        return b"\xcc" + struct.pack(">B", v)
    if v <= 0xFFFF:
        return b"\xcd" + struct.pack(">H", v)
    if v <= 0xFFFFFFFF:
        return b"\xce" + struct.pack(">I", v)
    return b"\xcf" + struct.pack(">Q", v)


def sint(v):
    if v >= 0:
        return uint(v)
    if v >= -32:
        return struct.pack(">b", v)
    if v >= -128:
        return b"\xd0" + struct.pack(">b", v)
    if v >= -32768:
        return b"\xd1" + struct.pack(">h", v)
    if v >= -(2**31):
        return b"\xd2" + struct.pack(">i", v)
    return b"\xd3" + struct.pack(">q", v)


def s(text):
    b = text.encode("utf-8")
    n = len(b)
    if n <= 31:
        return bytes([0xA0 | n]) + b
    if n <= 0xFF:
        return b"\xd9" + struct.pack(">B", n) + b
    if n <= 0xFFFF:
        return b"\xda" + struct.pack(">H", n) + b
    return b"\xdb" + struct.pack(">I", n) + b


def binary(b):
    n = len(b)
    if n <= 0xFF:
        return b"\xc4" + struct.pack(">B", n) + b
    if n <= 0xFFFF:
        return b"\xc5" + struct.pack(">H", n) + b
    return b"\xc6" + struct.pack(">I", n) + b


def array(items):
    n = len(items)
    if n <= 15:
        head = bytes([0x90 | n])
    elif n <= 0xFFFF:
        head = b"\xdc" + struct.pack(">H", n)
    else:
        head = b"\xdd" + struct.pack(">I", n)
    return head + b"".join(items)


NIL = b"\xc0"


def boolean(v):
    return b"\xc3" if v else b"\xc2"


def prefix(text):
    net = ipaddress.ip_network(text)
    return array([binary(net.network_address.packed), uint(net.prefixlen)])


def prefix_key(text):
    net = ipaddress.ip_network(text)
    return (len(net.network_address.packed), net.network_address.packed, net.prefixlen)


def endpoint(address, port):
    return array([binary(ipaddress.ip_address(address).packed), uint(port)])


def keypair(seed):
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    pk = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return sk, pk


def signed(sk, context, tbs):
    signature = sk.sign(context.encode("ascii") + b"\x00" + tbs)
    return array([binary(tbs), binary(signature)]), signature


def blake2s(*parts):
    return hashlib.blake2s(b"".join(parts), digest_size=32).digest()


root_seed = bytes(range(0x00, 0x20))
node_seed = bytes(range(0x20, 0x40))
root_sk, root_pk = keypair(root_seed)
node_sk, node_pk = keypair(node_seed)

# Overlay addresses (OverlayAddressAllocator): ULA /64 from the root key, host bits from the node key.
ula = blake2s(b"meshagent ula v1\x00", root_pk)
ipv6_prefix = bytes([0xFD]) + ula[:7]
interface_id = blake2s(b"meshagent overlay ipv6 v1\x00", node_pk, struct.pack(">I", 0))[8:16]
ipv6 = ipaddress.IPv6Address(ipv6_prefix + interface_id)

routes = sorted(["10.1.0.0/16", "192.168.1.0/24", "fd00:1::/48"], key=prefix_key)
tags = sorted(["web", "site-a"])
cert_tbs = array([
    uint(1),
    binary(root_pk),
    binary(node_pk),
    s("node-a"),
    binary(ipaddress.IPv4Address("100.96.0.1").packed),
    binary(ipv6.packed),
    array([prefix(r) for r in routes]),
    array([s(t) for t in tags]),
    sint(1700000000),
    sint(1731536000),
    boolean(True),
])
certificate, cert_sig = signed(root_sk, "meshagent certificate v1", cert_tbs)

advertised = sorted(["192.168.1.0/24", "10.1.2.0/24"], key=prefix_key)
state_tbs = array([
    uint(1),
    binary(node_pk),
    binary(blake2s(certificate)),
    uint(1700000000123),
    array([endpoint("203.0.113.7", 51820), endpoint("2001:db8::7", 51820)]),
    array([prefix(r) for r in advertised]),
    s("relay1.example.net:3478"),
    sint(1700000100),
])
state, _ = signed(node_sk, "meshagent member state v1", state_tbs)
member_record = array([certificate, state])

revocation_tbs = array([uint(1), binary(root_pk), binary(node_pk), sint(1700001000), s("laptop lost")])
revocation, _ = signed(root_sk, "meshagent revocation v1", revocation_tbs)

print("""# Golden encodings of the trust records (MembershipCertificate, MemberRecord, Revocation).
# Produced by make-trust-vectors.py in this directory: an independent Python model of the layouts
# documented in agent/MeshAgent.Core/Trust/*.cs (own MessagePack encoder after
# https://github.com/msgpack/msgpack/blob/master/spec.md, Ed25519 from 'cryptography' (RFC 8032),
# BLAKE2s-256 from hashlib (RFC 7693)). The C# encoder must reproduce these bytes exactly: a change
# here is a wire-format change and needs a new format version.
#
# Keys come from fixed seeds (Ed25519 KeyPairFromSeed); signatures are deterministic (RFC 8032 §5.1.6).
# Lists are space-separated; endpoints are address,port.
""")
print(f"""name = certificate
root_seed = {root_seed.hex()}
node_seed = {node_seed.hex()}
root_public = {root_pk.hex()}
node_public = {node_pk.hex()}
ipv6_prefix = {ipaddress.IPv6Network((ipv6_prefix + bytes(8), 64))}
node_name = node-a
overlay_ipv4 = 100.96.0.1
overlay_ipv6 = {ipv6}
approved_routes = 192.168.1.0/24 fd00:1::/48 10.1.0.0/16
tags = web site-a
issued_at = 1700000000
expires_at = 1731536000
is_admin = true
tbs = {cert_tbs.hex()}
signature = {cert_sig.hex()}
encoding = {certificate.hex()}
hash = {blake2s(certificate).hex()}

name = member-record
version = 1700000000123
endpoints = 203.0.113.7,51820 2001:db8::7,51820
advertised_routes = 192.168.1.0/24 10.1.2.0/24
relay_home = relay1.example.net:3478
timestamp = 1700000100
state_tbs = {state_tbs.hex()}
encoding = {member_record.hex()}

name = revocation
revoked_at = 1700001000
reason = laptop lost
tbs = {revocation_tbs.hex()}
encoding = {revocation.hex()}""")
