"""The streaming decoder hands out exactly the series of data.result, whatever the chunking."""

from __future__ import annotations

import json
import random

import pytest

from meshreport.collect.decode import MAX_ELEMENT, DecodeError, ResponseDecoder, decode


def answer(n: int, kind: str, *, indent=None, ascii=False, extra=True) -> tuple[bytes, dict]:
    result = []
    for i in range(n):
        # label values that look like the separator, escapes, non-ASCII
        m = {"__name__": 'a"},{"metric":{b', "ns": f"ns{i % 7}", "w": "ü" * (i % 3), "z": "\\" * (i % 4)}
        if kind == "vector":
            result.append({"metric": m, "value": [1704074400.5, str(i * 1.5)]})
        else:
            result.append(
                {"metric": m, "values": [[1704074400 + j, "NaN" if j == 1 else str(j)] for j in range(i % 5)]}
            )
    doc: dict = {"status": "success", "data": {"resultType": kind, "result": result}}
    if extra:
        doc["data"]["stats"] = {"timings": {"evalTotalTime": 0.5, "execTotalTime": 0.6}}
        doc["warnings"] = ["partial response: store x"]
    sep = None if indent else (",", ":")
    return json.dumps(doc, indent=indent, ensure_ascii=ascii, separators=sep).encode(), doc


def feed_randomly(data: bytes, rng: random.Random) -> tuple[list, object]:
    got: list = []
    dec = ResponseDecoder(got.extend)
    pos = 0
    while pos < len(data):
        k = rng.choice([1, 3, 17, 100, 4096, 1 << 16])
        dec.feed(data[pos : pos + k])
        pos += k
    return got, dec.close()


def test_any_chunking_and_formatting_gives_the_same_series():
    rng = random.Random(1)
    for _ in range(150):
        kind = rng.choice(["vector", "matrix"])
        data, doc = answer(
            rng.choice([0, 1, 2, 5, 60]), kind, indent=rng.choice([None, None, 1]), ascii=rng.random() < 0.5
        )
        got, ans = feed_randomly(data, rng)
        assert got == doc["data"]["result"]
        assert ans.result_type == kind and ans.status == "success" and ans.series == len(got)
        assert ans.warnings == ["partial response: store x"]
        assert ans.stats == {"timings": {"evalTotalTime": 0.5, "execTotalTime": 0.6}}


def test_series_arrive_in_batches_while_reading():
    data, doc = answer(3000, "vector", extra=False)
    batches: list[int] = []
    dec = ResponseDecoder(lambda s: batches.append(len(s)))
    for i in range(0, len(data), 1 << 16):
        dec.feed(data[i : i + (1 << 16)])
    dec.close()
    assert sum(batches) == 3000 and len(batches) > 5  # reduced as it came, not at the end


@pytest.mark.parametrize("cut", [5, 60, -1])
def test_truncated_answer_is_an_error(cut):
    data, _ = answer(10, "vector")
    with pytest.raises(DecodeError):
        decode(data[:cut])


def test_error_scalar_and_label_answers():
    a = decode(b'{"status":"error","errorType":"execution","error":"query processing would load too many samples"}')
    assert a.status == "error" and a.error_type == "execution" and "too many samples" in a.error
    a = decode(b'{"status":"success","data":{"resultType":"scalar","result":[1704.5,"2"]}}')
    assert a.result_type == "scalar" and a.others == [1704.5, "2"]
    assert decode(b'{"status":"success","data":["a","b"]}').data == ["a", "b"]


def test_bad_answers_are_errors_not_wrong_series():
    for bad in (b"<html>502 Bad Gateway</html>", b'{"status":"success","data":{"result":[{"metric":{}},{]}}', b"[1,2]"):
        with pytest.raises(DecodeError):
            decode(bad)
    # a mark where no series starts: the batch does not parse
    with pytest.raises(DecodeError):
        decode(b'{"status":"success","data":{"result":[{"metric":{"a":"b"},"x":[{},{"metric":{}}]}},{"metric":{}}]}')


def test_one_huge_series_is_refused_without_holding_more():
    dec = ResponseDecoder(lambda s: None)
    dec.feed(b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"')
    chunk = b"x" * (1 << 20)
    with pytest.raises(DecodeError, match="one series over"):
        for _ in range((MAX_ELEMENT >> 20) + 2):
            dec.feed(chunk)
