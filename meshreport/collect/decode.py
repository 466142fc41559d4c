"""Decode a Prometheus API answer as it arrives, one batch of series at a time.

A 10,000-workload mesh answers 600 MB of JSON; decoded whole (`response.json()`), every answer
was held twice, as text and as Python objects, before it was reduced to what the snapshot keeps.
Here the bytes are fed in chunks (`feed`), the series of `data.result` are handed to a sink in
batches as soon as they are complete, and only the small rest of the answer (`status`, `error`,
`warnings`, `resultType`, `stats`) is kept and parsed at the end (`close`).

Finding where one series ends without a JSON parser per byte: Prometheus, Thanos, Mimir and
VictoriaMetrics write compact JSON in which every series after the first starts with
`},{"metric":{`; that text cannot occur inside a JSON string (its quotes would be escaped) nor
elsewhere in a series. Everything before the last such mark is a run of whole series, parsed by
orjson in one call. The last series of a chunk, and answers written another way (spaces,
another key order), are delimited by a small tokenizer over strings and brackets instead, which
is slower but exact. Every batch is still parsed by a real JSON parser, so a mark that is not
where it should be only ever makes a batch fail to parse: a `DecodeError`, never wrong series.

The caller owns the read loop (`for chunk in ...: decoder.feed(chunk)`), so a deadline or a
size limit wraps it without this module knowing about either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

#: Between two series in compact output: the end of one and the start of the next.
MARK = b'},{"metric":{'
#: The most one series or the rest of the answer may take (a label value of a gigabyte is an attack).
MAX_ELEMENT = 64 << 20
MAX_ENVELOPE = 16 << 20

_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+|\s+')
_SEPARATOR = re.compile(rb"\s*,?\s*")


class DecodeError(ValueError):
    """The answer is not the JSON the Prometheus API writes: not JSON at all (`syntax`), or JSON of
    another shape."""

    def __init__(self, message: str, *, syntax: bool = False) -> None:
        super().__init__(message)
        self.syntax = syntax


@dataclass
class Answer:
    """What is left of an answer once its series went to the sink."""

    status: Any = None
    error: Any = None
    error_type: Any = None
    result_type: Any = None
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    stats: dict[str, Any] | None = None
    partial: bool = False  # VictoriaMetrics cluster: `"isPartial": true` when a storage node did not answer
    data: Any = None  # `data` without `result` (or all of it when it is not an object, e.g. label values)
    others: list[Any] = field(default_factory=list)  # result elements that are not series (a scalar's [t, v])
    series: int = 0


class ResponseDecoder:
    """Feed the bytes of one answer; complete series go to `sink(list_of_series_dicts)`."""

    def __init__(self, sink: Callable[[list[dict]], None]) -> None:
        self.sink = sink
        self.env = bytearray()  # the answer without the series of data.result
        self.buf = bytearray()  # not yet consumed
        self.in_result = False
        # Envelope tokenizer state: a stack of [container, key-or-None, expecting-key]; and
        # the path of keys leading to the current container.
        self.stack: list[list[Any]] = []
        self.after_colon = False
        self.pending_key: bytes | None = None
        # Series tokenizer state (the first, possibly incomplete, element of `buf`).
        self.elem_pos = 0
        self.elem_depth = 0
        self.elem_started = False
        self.others: list[Any] = []
        self.result_type: Any = None  # data.resultType, when it came before data.result (as Prometheus writes)
        self.count = 0
        self.done = False

    # --- input ------------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        if not data:
            return
        self.buf += data
        while self.buf:
            if self.in_result:
                if not self._result():
                    break
            elif not self._envelope():
                break
        if len(self.env) > MAX_ENVELOPE:
            raise DecodeError(f"answer holds over {MAX_ENVELOPE >> 20} MB besides its series")

    def close(self) -> Answer:
        """Everything was fed: parse what is left. Raises DecodeError on a truncated or bad answer."""
        if self.in_result or self.buf.strip():
            raise DecodeError("answer ends in the middle of its JSON", syntax=True)
        try:
            doc = orjson.loads(bytes(self.env))
        except orjson.JSONDecodeError as e:
            raise DecodeError(f"answer is not valid JSON ({e})", syntax=True) from None
        if not isinstance(doc, dict):
            raise DecodeError("answer is not a JSON object")
        data = doc.get("data")
        ans = Answer(
            status=doc.get("status"),
            error=doc.get("error"),
            error_type=doc.get("errorType"),
            warnings=[str(w) for w in doc.get("warnings") or [] if w is not None]
            if _is_list(doc.get("warnings"))
            else [],
            infos=[str(w) for w in doc.get("infos") or [] if w is not None] if _is_list(doc.get("infos")) else [],
            partial=doc.get("isPartial") is True,
            data=data,
            others=self.others,
            series=self.count,
        )
        if isinstance(data, dict):
            ans.result_type = data.get("resultType")
            stats = data.get("stats")
            ans.stats = stats if isinstance(stats, dict) else None
        return ans

    # --- the answer around the series -------------------------------------------------------------

    def _envelope(self) -> bool:
        """Tokenize envelope bytes until `data.result`'s `[`; False when more input is needed."""
        buf = self.buf
        pos = 0
        n = len(buf)
        while pos < n:
            m = _TOKEN.match(buf, pos)
            if m is None:
                break  # a string not closed yet
            tok = m.group()
            end = m.end()
            if tok[:1].isspace():
                pos = end
                continue
            if end == n and tok[:1] not in b'{}[]:,"':
                break  # a literal or number that may continue in the next chunk
            self.env += tok
            pos = end
            c = tok[:1]
            if c == b"{" or c == b"[":
                path_key = self.pending_key if self.after_colon else None
                if (
                    c == b"["
                    and path_key == b'"result"'
                    and len(self.stack) == 2
                    and self.stack[1][1] == b'"data"'
                    and self.stack[1][0] == "{"
                ):
                    self.in_result = True
                    self.after_colon = False
                    self.pending_key = None
                    del buf[:pos]
                    self._reset_element()
                    return True
                self.stack.append([c.decode(), path_key if c == b"{" else None])
                if len(self.stack) > 64:
                    raise DecodeError("answer nested too deeply", syntax=True)
                self.after_colon = False
                self.pending_key = None
            elif c == b"}" or c == b"]":
                if self.stack:
                    self.stack.pop()
                self.after_colon = False
            elif c == b":":
                self.after_colon = True
                continue
            elif c == b",":
                self.after_colon = False
                self.pending_key = None
            elif c == b'"' and not self.after_colon and self.stack and self.stack[-1][0] == "{":
                self.pending_key = tok
            else:
                if self.after_colon and self.pending_key == b'"resultType"' and len(self.stack) == 2 and c == b'"':
                    self.result_type = orjson.loads(tok)
                self.after_colon = False
        del buf[:pos]
        if len(buf) > MAX_ENVELOPE:
            raise DecodeError(f"answer holds a value over {MAX_ENVELOPE >> 20} MB besides its series")
        return False

    # --- the series -------------------------------------------------------------------------------

    def _reset_element(self) -> None:
        self.elem_pos = 0
        self.elem_depth = 0
        self.elem_started = False

    def _result(self) -> bool:
        """Hand out every complete series in `buf`; False when more input is needed."""
        buf = self.buf
        if not self.elem_started:
            skip = _SEPARATOR.match(buf).end()  # what is left between the last series and the next
            if skip:
                del buf[:skip]
            self.elem_pos = 0
        cut = buf.rfind(MARK)
        if cut > 0:
            self._emit(b"[" + bytes(buf[: cut + 1]) + b"]")
            del buf[: cut + 2]
            self._reset_element()
        # The first series left, delimited by tokens (resumes where the last call stopped).
        pos, depth, started = self.elem_pos, self.elem_depth, self.elem_started
        n = len(buf)
        while pos < n:
            m = _TOKEN.match(buf, pos)
            if m is None:
                break
            end = m.end()
            c = buf[pos : pos + 1]
            if c.isspace():
                pos = end
                continue
            if not started:
                if c == b",":
                    del buf[:end]
                    n -= end
                    pos = 0
                    continue
                if c == b"]":  # the end of data.result
                    self.env += b"]"
                    del buf[:end]
                    self.in_result = False
                    self._reset_element()
                    return True
                started = True
            if c == b"{" or c == b"[":
                depth += 1
            elif c == b"}" or c == b"]":
                depth -= 1
            elif depth == 0 and end == n:
                break  # a bare number that may continue
            pos = end
            if depth == 0:
                self._emit_one(bytes(buf[:pos]))
                del buf[:pos]
                self._reset_element()
                return True
        self.elem_pos, self.elem_depth, self.elem_started = pos, depth, started
        if len(buf) > MAX_ELEMENT:
            raise DecodeError(f"answer holds one series over {MAX_ELEMENT >> 20} MB")
        return False

    def _emit(self, text: bytes) -> None:
        try:
            items = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            raise DecodeError(f"answer is not valid JSON ({e})", syntax=True) from None
        self._hand_out(items)

    def _emit_one(self, text: bytes) -> None:
        try:
            item = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            raise DecodeError(f"answer is not valid JSON ({e})", syntax=True) from None
        self._hand_out([item])

    def _hand_out(self, items: list) -> None:
        if self.result_type in ("scalar", "string"):  # [time, value]: not series
            if len(self.others) + len(items) > 2:
                raise DecodeError(f"a {self.result_type} result holds more than [time, value]")
            self.others.extend(items)
            return
        for k, x in enumerate(items):
            if not isinstance(x, dict):
                raise DecodeError(f"result item {self.count + k} is a {type(x).__name__}, not a series")
        self.count += len(items)
        self.sink(items)


def _is_list(x: Any) -> bool:
    return isinstance(x, list)


def decode(data: bytes, sink: Callable[[list[dict]], None] | None = None) -> Answer:
    """A whole answer at once (tests, small endpoints): the series go to `sink` or are dropped."""
    dec = ResponseDecoder(sink or (lambda s: None))
    dec.feed(data)
    return dec.close()
