"""Reference shard assignments, computed independently of the Rust code.

Rendezvous hashing as src/shard.rs documents it: FNV-1a 64 of the tenant's
UTF-8 name, xor (index + 1) * 0x9E3779B97F4A7C15, SplitMix64's finaliser;
the highest score owns the tenant, ties to the lower index.
Run: python3 tests/reference/shard.py (the values are pasted in src/shard.rs).
"""

M = (1 << 64) - 1


def fnv1a(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & M
    return h


def splitmix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def owner(tenant: str, count: int) -> int:
    name = fnv1a(tenant.encode())
    scores = [(splitmix64(name ^ (((i + 1) * 0x9E3779B97F4A7C15) & M)), -i) for i in range(count)]
    return -max(scores)[1]


if __name__ == "__main__":
    names = ["acme", "globex", "initech", "umbrella", "tenant-0000", "tenant-0999", ""]
    print("owners of", names, "over 4 shards:", [owner(t, 4) for t in names])
    per_shard = [0] * 4
    for i in range(1000):
        per_shard[owner(f"tenant-{i:04}", 4)] += 1
    print("tenant-0000..0999 per shard of 4:", per_shard)
    moved = sum(owner(f"tenant-{i:04}", 4) != owner(f"tenant-{i:04}", 5) for i in range(1000))
    print("moved going from 4 to 5 shards:", moved)
