"""The `file` source at run time: read new files matching a path, one batch per file.

Which files were read is part of the source's state (the store's cursor), as a JSON list of
`{path, size, mtime_ns}`: a run reads the files that are not in the list or whose size or
modification time changed, so a restart or a rescan (`every`) never reads a file twice while
it stays the same. A changed file is read again whole; appending to a file therefore repeats
its earlier records (idempotent persistence on the pipeline's key absorbs them).

Reading goes through Polars' readers (CSV, Parquet) or the shared JSON conversion
(`flowc.runtime.records`, bulk and strict, like the webhook's), on a worker thread so a big
file does not stall the event loop. A file that cannot be read does not stop the others: the
run reads the rest, then fails naming every bad file, which stays unread until it changes.
"""

from __future__ import annotations

import asyncio
import glob
import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import polars as pl

from flowc.compiler.manifest import Source, connector_config
from flowc.dsl import types as t
from flowc.runtime.executor import Batch
from flowc.runtime.jsonpath import Json, JsonPathError, compile_path
from flowc.runtime.records import BodyError, parse_json, parse_ndjson, polars_dtype
from flowc.runtime.sources.base import Emit, RunResult, SourceState
from flowc.runtime.sources.http_records import Schema, declared_schema, records_batch
from flowc.stdlib.connectors.file import FileSource

log = logging.getLogger("flowc.runtime.sources.file")

_GLOB_CHARS = frozenset("*?[")
# Types a CSV cell holds as JSON text: decoded after reading.
_JSON_CELL = (t.Kind.LIST, t.Kind.STRUCT)


class FileSourceError(Exception):
    """A file source cannot run, or some of its files cannot be read."""


@dataclass(frozen=True)
class _Seen:
    path: str  # relative to the base directory, with `/`
    size: int
    mtime_ns: int


class FilePollSource:
    """A `file` source as a PolledSource; `base_dir` is the directory of the .flow file."""

    def __init__(
        self, name: str, config: FileSource, schema: Schema | None, base_dir: Path
    ) -> None:
        self.name = name
        self.config = config
        self.schema = schema
        self.base_dir = base_dir
        try:
            self._records = compile_path(config.records)
        except JsonPathError as error:
            raise FileSourceError(f"source `{name}`: {error}") from None
        if config.format == "csv" and schema is not None:
            durations = [n for n, ft in schema.items() if ft.kind is t.Kind.DURATION]
            if durations:
                raise FileSourceError(
                    f"source `{name}`: csv cannot hold duration values (`{durations[0]}`): "
                    "declare the field as `str`"
                )

    @classmethod
    def from_manifest(
        cls, source: Source, base_dir: Path, schema: Schema | None = None
    ) -> FilePollSource:
        """The source of a manifest entry (`kind: file`); `schema` defaults to the declared
        fields (see `reader_schema` for a source that declares none)."""
        config = connector_config(FileSource, source.config)
        return cls(source.name, config, schema or declared_schema(source), base_dir)

    async def run_once(self, emit: Emit, state: SourceState) -> RunResult:
        """Read every file that is new or changed since it was last read."""
        seen = self._load_seen(await state.load_cursor(self.name))
        current = await asyncio.to_thread(self._scan)
        result = RunResult()
        # Files that no longer match are forgotten, so the state does not grow forever.
        kept = {path: entry for path, entry in seen.items() if path in current}
        unsaved = len(kept) != len(seen)
        failures: list[str] = []
        for path, entry in current.items():
            if kept.get(path) == entry:
                continue
            try:
                batch = await asyncio.to_thread(self._read, path)
            except FileSourceError as error:
                failures.append(f"{path}: {error}")
                continue
            if batch is not None:
                await emit(batch)
                result.records += batch.frame.height
                result.batches += 1
            log.debug("source `%s`: read %s", self.name, path)
            kept[path] = entry
            await state.save_cursor(self.name, _dump_seen(kept))
            unsaved = False
        if unsaved:
            await state.save_cursor(self.name, _dump_seen(kept))
        if failures:
            count = f"{len(failures)} of {len(current)} files" if len(current) > 1 else "a file"
            raise FileSourceError(
                f"source `{self.name}`: {count} could not be read: " + "; ".join(failures)
            )
        return result

    async def close(self) -> None:
        return None

    def _load_seen(self, saved: str | None) -> dict[str, _Seen]:
        if not saved:
            return {}
        try:
            entries: Json = orjson.loads(saved)
            return {
                e["path"]: _Seen(e["path"], int(e["size"]), int(e["mtime_ns"])) for e in entries
            }
        except (orjson.JSONDecodeError, TypeError, KeyError, ValueError):
            log.warning("source `%s`: unreadable saved state; every file is read again", self.name)
            return {}

    # ---- finding files ----

    def _scan(self) -> dict[str, _Seen]:
        """The files `path` names now, by relative path, in name order."""
        pattern = os.path.join(self.base_dir, self.config.path)
        if _GLOB_CHARS.isdisjoint(self.config.path):
            if not os.path.isfile(pattern):
                raise FileSourceError(
                    f"source `{self.name}`: no file {self.config.path} (paths are relative "
                    f"to {self.base_dir})"
                )
            matches = [pattern]
        else:
            # `*` skips dot files: a file written as `.name.tmp` and renamed when complete
            # is never read half-written.
            matches = [m for m in glob.glob(pattern, recursive=True) if os.path.isfile(m)]
        found: dict[str, _Seen] = {}
        for match in sorted(matches):
            stat = os.stat(match)
            relative = Path(os.path.relpath(match, self.base_dir)).as_posix()
            found[relative] = _Seen(relative, stat.st_size, stat.st_mtime_ns)
        return found

    # ---- reading one file (on a worker thread) ----

    def _read(self, path: str) -> Batch | None:
        full = self.base_dir / path
        fmt = self.config.format
        try:
            if fmt == "parquet":
                return self._typed(pl.read_parquet(full))
            data = full.read_bytes()
            if self.config.encoding == "latin-1":
                data = data.decode("latin-1").encode("utf-8")
            if fmt == "csv":
                return self._csv(data)
            return self._json(data, lines=fmt == "jsonl")
        except BodyError as error:
            raise FileSourceError(f"{error}") from None
        except pl.exceptions.PolarsError as error:
            raise FileSourceError(f"not readable as {fmt}: {_first_line(error)}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise FileSourceError(f"cannot read it: {error}") from None

    def _json(self, data: bytes, *, lines: bool) -> Batch | None:
        texts: Sequence[bytes] | None = None
        if lines:
            documents, line_texts = parse_ndjson(data)
            if self.config.records == "$":
                records, texts = documents, line_texts  # each line is a record: keep its text
            else:
                records = [r for document in documents for r in self._records.records(document)]
        else:
            records = self._records.records(parse_json(data))
        if not records:
            return None
        return records_batch(records, self.schema, texts)

    def _csv(self, data: bytes) -> Batch | None:
        schema = self.schema
        read_as: dict[str, pl.DataType] | None = None
        if schema is not None:
            read_as = {
                name: pl.String() if ft.kind in _JSON_CELL else polars_dtype(ft)
                for name, ft in schema.items()
            }
        frame = pl.read_csv(
            io.BytesIO(data),
            separator=self.config.delimiter,
            has_header=self.config.header,
            # Without a header, the declared fields name the columns in order.
            new_columns=None if self.config.header or schema is None else list(schema),
            schema_overrides=read_as,
            infer_schema_length=None,
        )
        if schema is None:
            return Batch(frame) if frame.height else None
        decoded = [
            pl.col(name).str.json_decode(polars_dtype(ft))
            for name, ft in schema.items()
            if ft.kind in _JSON_CELL and name in frame.columns
        ]
        return self._typed(frame.with_columns(decoded) if decoded else frame)

    def _typed(self, frame: pl.DataFrame) -> Batch | None:
        """A CSV or Parquet frame with exactly the declared fields, checked like JSON records
        are: a column the file lacks, or a null where the schema allows none, is an error."""
        if frame.height == 0:
            return None
        schema = self.schema
        if schema is None:
            return Batch(frame)
        missing = [n for n, ft in schema.items() if n not in frame.columns and not ft.may_be_null]
        if missing:
            raise FileSourceError(f"no column `{missing[0]}`, which the schema declares")
        frame = frame.select(
            (pl.col(n) if n in frame.columns else pl.lit(None)).cast(polars_dtype(ft)).alias(n)
            for n, ft in schema.items()
        )
        required = [n for n, ft in schema.items() if not ft.may_be_null]
        if required:
            row = frame.select(pl.any_horizontal(pl.col(required).is_null()).arg_true().first())
            index = row.item()
            if index is not None:
                name = next(n for n in required if frame[n][index] is None)
                raise FileSourceError(
                    f"row {index + 1} has no value for `{name}`, which the schema declares "
                    f"{schema[name]} (write `{schema[name]}?` to allow none)"
                )
        return Batch(frame)


def _first_line(error: Exception) -> str:
    # Polars follows its message with advice about Python arguments a .flow file cannot set.
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _dump_seen(seen: dict[str, _Seen]) -> str:
    entries = [{"path": e.path, "size": e.size, "mtime_ns": e.mtime_ns} for e in seen.values()]
    return orjson.dumps(sorted(entries, key=lambda e: str(e["path"]))).decode()
