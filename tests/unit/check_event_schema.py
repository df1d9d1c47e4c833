#!/usr/bin/env python3
"""check_event_schema.py - validates Kafka event values (JSON lines on stdin)
against schema/article-event.schema.json, formats (date-time) included.

    EVENT_SAMPLES_OUT=build/event-samples.jsonl build/tests/test_sync_event
    python3 tests/unit/check_event_schema.py < build/event-samples.jsonl

With --invalid every line must be refused instead (to check the schema
itself against values the decoder refuses). The schema's own examples are
checked first. Ends with one "N valid, N invalid" line; exit status 1 when
a line does not come out as expected or the input is empty.
"""
import json
import pathlib
import sys

import jsonschema

SCHEMA = pathlib.Path(__file__).resolve().parents[2] / "schema" / "article-event.schema.json"


def refuse_constants(name):
    raise ValueError(f"{name} is not JSON")


def main():
    expect_valid = "--invalid" not in sys.argv[1:]
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    if "date-time" not in validator.format_checker.checkers:
        sys.exit("check_event_schema: date-time cannot be checked; install rfc3339-validator")
    for i, example in enumerate(schema.get("examples", [])):
        for e in validator.iter_errors(example):
            sys.exit(f"check_event_schema: examples[{i}] is invalid: {e.message}")

    valid = invalid = unexpected = 0
    for n, line in enumerate(sys.stdin.buffer, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line.decode("utf-8"), parse_constant=refuse_constants)
            errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        except ValueError as e:  # not UTF-8 or not JSON: invalid as well
            errors = [e]
        if errors:
            invalid += 1
        else:
            valid += 1
        if bool(errors) == expect_valid:
            unexpected += 1
            if errors:
                e = errors[0]
                where = "/" + "/".join(str(p) for p in getattr(e, "path", []))
                print(f"line {n}: {where}: {getattr(e, 'message', e)}", file=sys.stderr)
            else:
                print(f"line {n}: valid, but --invalid expects a refusal: {line[:200]!r}",
                      file=sys.stderr)
    print(f"check_event_schema: {valid} valid, {invalid} invalid")
    if valid + invalid == 0:
        sys.exit("check_event_schema: no input")
    sys.exit(1 if unexpected else 0)


if __name__ == "__main__":
    main()
