#!/usr/bin/env python3
"""Regenerate the golden Kafka values in tests/data/.

Each file is one Kafka message value with Confluent framing (magic byte 0,
4-byte big-endian schema id, Avro binary body), using the schema ids the
integration tests register: v1=1, v2=2, v3=3, marker=10, attribution=20.

The Avro encoder here is written from the specification, independently of
Avro-C, so the unit tests also check that the decoder reads what another
encoder writes. Bad payloads are valid records with one value replaced by
raw bytes (Raw), so each file carries exactly the defect it is named after.
All identifiers are synthetic: no real beneficiary or provider data.

Usage: python3 tests/data/make_golden.py   (from anywhere; stdlib only)
"""

import datetime
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "..", "schemas")

ID_V1, ID_V2, ID_V3, ID_MARKER, ID_ATTR = 1, 2, 3, 10, 20


class Raw(bytes):
    """Bytes written verbatim in place of a value."""


def varint(n):
    u = ((n << 1) ^ (n >> 63)) & 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while u & ~0x7F:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


def string(s):
    b = s.encode("utf-8")
    return varint(len(b)) + b


def fits(schema, v, names):
    t = schema if isinstance(schema, str) else schema.get("type")
    if isinstance(t, str) and t in names:
        return fits(names[t], v, names)
    if t == "null":
        return v is None
    if t in ("string", "enum"):
        return isinstance(v, str)
    if t in ("int", "long"):
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "array":
        return isinstance(v, list)
    if t in ("record", "map"):
        return isinstance(v, dict)
    return False


def encode(schema, v, names, ns=None):
    if isinstance(v, Raw):
        return bytes(v)
    if isinstance(schema, list):
        for i, branch in enumerate(schema):
            if fits(branch, v, names):
                return varint(i) + encode(branch, v, names, ns)
        raise ValueError("no union branch for %r" % (v,))
    if isinstance(schema, str):
        if schema in names:
            return encode(names[schema], v, names, ns)
        schema = {"type": schema}
    t = schema["type"]
    if isinstance(t, (list, dict)):
        return encode(t, v, names, ns)
    if t in ("record", "enum", "fixed"):
        ns = schema.get("namespace", ns)
        names[schema["name"]] = schema
        if ns:
            names[ns + "." + schema["name"]] = schema
    if t == "null":
        return b""
    if t == "boolean":
        return b"\x01" if v else b"\x00"
    if t in ("int", "long"):
        return varint(v)
    if t == "string":
        return string(v)
    if t == "enum":
        return varint(schema["symbols"].index(v))
    if t == "array":
        if not v:
            return varint(0)
        items = b"".join(encode(schema["items"], x, names, ns) for x in v)
        return varint(len(v)) + items + varint(0)
    if t == "map":
        if not v:
            return varint(0)
        body = b"".join(string(k) + encode(schema["values"], x, names, ns)
                        for k, x in v.items())
        return varint(len(v)) + body + varint(0)
    if t == "record":
        out = b""
        for f in schema["fields"]:
            if f["name"] in v:
                val = v[f["name"]]
            elif "default" in f:
                val = f["default"]
            else:
                raise ValueError("no value for " + f["name"])
            out += encode(f["type"], val, names, ns)
        return out
    raise ValueError("unsupported type " + t)


def load(stem):
    with open(os.path.join(SCHEMAS, stem + ".avsc"), encoding="utf-8") as f:
        return json.load(f)


def frame(schema_id, body):
    return b"\x00" + struct.pack(">I", schema_id) + body


def days(y, m, d):
    return (datetime.date(y, m, d) - datetime.date(1970, 1, 1)).days


RECEIVED_MS = 1710000000000  # 2024-03-09T16:00:00Z


def claim(**over):
    """A professional (carrier) claim with three lines; synthetic ids."""
    c = {
        "event_id": "evt-golden-0001",
        "claim_version_id": "CV-GOLD-1001",
        "claim_control_number": "CCN-GOLD-778",
        "claim_form": "PROFESSIONAL",
        "claim_type": "CARRIER_71",
        "adjustment_type": "ORIGINAL",
        "mbi": "9ZZ9ZZ9ZZ99",
        "billing_ccn": None,
        "from_date": days(2024, 3, 1),
        "thru_date": days(2024, 3, 5),
        "effective_date": days(2024, 3, 8),
        "received_at": RECEIVED_MS,
        "paid_cents": 12345,
        "allowed_cents": 15000,
        "billing_tin": "000000001",
        "billing_npi": "0000000006",
        "principal_dx": "Z0000",
        "diagnoses": ["Z0000", "Z0001"],
        "lines": [
            {"line_number": 1, "thru_date": days(2024, 3, 2),
             "hcpcs": "99213", "revenue_center": None,
             "rendering_npi": "0000000014", "rendering_tin": "000000001",
             "paid_cents": 4115, "allowed_cents": 5000},
            {"line_number": 2, "thru_date": None, "hcpcs": "99214",
             "revenue_center": None, "rendering_npi": "0000000014",
             "rendering_tin": "000000001", "paid_cents": 4115,
             "allowed_cents": 5000},
            {"line_number": 3, "thru_date": days(2024, 3, 5),
             "hcpcs": "G0439", "revenue_center": None,
             "rendering_npi": "0000000022", "rendering_tin": "000000001",
             "paid_cents": 4115, "allowed_cents": None},
        ],
        "source_file": "golden.synthetic",
        "place_of_service": "11",
        "risk_flags": [],
    }
    c.update(over)
    return c


def claim_value(stem, schema_id, **over):
    schema = load(stem)
    return frame(schema_id, encode(schema, claim(**over), {}))


def v2(**over):
    return claim_value("claim_event", ID_V2, **over)


def main():
    files = {}
    files["valid-claim-v2.bin"] = v2()
    files["valid-claim-v1.bin"] = claim_value("claim_event.v1", ID_V1)
    files["valid-claim-v3.bin"] = claim_value("claim_event.v3", ID_V3)
    files["unknown-claim-type-v3.bin"] = claim_value(
        "claim_event.v3", ID_V3, claim_type="RHC_FQHC_90")
    files["valid-marker.bin"] = frame(ID_MARKER, encode(
        load("delivery_marker"),
        {"delivery_id": "delivery-golden-1", "complete_through": RECEIVED_MS},
        {}))
    files["valid-attribution.bin"] = frame(ID_ATTR, encode(
        load("beneficiary_attribution"),
        {"mbi": "9ZZ9ZZ9ZZ99", "aco_id": "A9999", "performance_year": 2024,
         "enrollment_type": "AGED_NON_DUAL", "month_flags": 4095,
         "data_sharing_excluded": False, "change": "ADD",
         "as_of": days(2024, 3, 1)}, {}))
    files["empty-value.bin"] = b""
    good = files["valid-claim-v2.bin"]
    files["bad-magic-byte.bin"] = b"\x01" + good[1:]
    files["truncated-header.bin"] = good[:3]
    files["truncated-record.bin"] = good[:len(good) * 3 // 5]
    files["unknown-schema-id.bin"] = frame(99, good[5:])
    files["trailing-bytes.bin"] = good + b"\x00"
    # diagnoses: a block of 2^31 items, then the end marker (6 bytes).
    files["array-count-bomb.bin"] = v2(
        diagnoses=Raw(varint(2 ** 31) + varint(0)))
    files["negative-string-length.bin"] = v2(event_id=Raw(varint(-3)))
    files["bad-union-index.bin"] = v2(
        claim_control_number=Raw(varint(5) + string("CCN-GOLD-778")))
    files["thru-before-from.bin"] = v2(thru_date=days(2024, 2, 1))
    files["empty-claim-version-id.bin"] = v2(claim_version_id="")
    files["bad-amount.bin"] = v2(paid_cents=10 ** 15)
    line = claim()["lines"][0]
    files["too-many-lines.bin"] = v2(lines=[dict(line, line_number=i + 1)
                                            for i in range(451)])
    for name, data in sorted(files.items()):
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        print("%-28s %6d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
