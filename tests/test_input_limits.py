"""Every input field is bounded where it is declared, and the bound fits the column it fills."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import marshmallow as ma
import pytest
from sqlalchemy import String

from lims.db import Base
from lims.models import import_all
from lims.web import INT_MAX, INT_MIN, Schema

FEATURES = ("audit", "auth", "labels", "specimens", "storage")
# Bounded by the request size (MAX_CONTENT_LENGTH), not by a column: the CSV of an import.
UNBOUNDED = {("PlacementImportIn", "csv")}


def _input_schemas() -> list[type[Schema]]:
    import_all()  # every table in Base.metadata
    for feature in FEATURES:
        importlib.import_module(f"lims.{feature}.schemas")
    found: list[type[Schema]] = []
    todo = [Schema]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__name__.endswith(("In", "Query")):
            found.append(cls)
    return sorted(set(found), key=lambda c: c.__name__)


def _fields(schema: type[Schema]) -> Iterator[tuple[str, ma.fields.Field]]:
    for name, field in schema().load_fields.items():
        yield name, field
        if isinstance(field, ma.fields.List):
            yield f"{name}[]", field.inner


def _max_length(field: ma.fields.Field) -> int | None:
    maxima = [v.max for v in field.validators if isinstance(v, ma.validate.Length)]
    maxima += [
        max(map(len, v.choices)) for v in field.validators if isinstance(v, ma.validate.OneOf)
    ]
    return min((m for m in maxima if m is not None), default=None)


def _range(field: ma.fields.Field) -> tuple[float, float]:
    ranges = [v for v in field.validators if isinstance(v, ma.validate.Range)]
    low = max((r.min for r in ranges if r.min is not None), default=float("-inf"))
    high = min((r.max for r in ranges if r.max is not None), default=float("inf"))
    return low, high


SCHEMAS = _input_schemas()


def test_the_walk_finds_the_input_schemas() -> None:
    names = {s.__name__ for s in SCHEMAS}
    assert {"FreezerIn", "SubjectIn", "AliquotQueryIn", "TokenIn", "LabelsIn"} <= names


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.__name__)
def test_every_string_field_has_a_length_within_its_column(schema: type[Schema]) -> None:
    for name, field in _fields(schema):
        if not isinstance(field, ma.fields.String) or (schema.__name__, name) in UNBOUNDED:
            continue
        limit = _max_length(field)
        assert limit is not None, f"{schema.__name__}.{name} has no maximum length"
        if column_name := field.metadata.get("column"):
            table, _, column = column_name.partition(".")
            column_type = Base.metadata.tables[table].c[column].type
            assert isinstance(column_type, String) and column_type.length is not None
            assert limit <= column_type.length, (
                f"{schema.__name__}.{name} allows {limit} characters; "
                f"{column_name} holds {column_type.length}"
            )


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.__name__)
def test_every_integer_field_fits_an_integer_column(schema: type[Schema]) -> None:
    for name, field in _fields(schema):
        if isinstance(field, ma.fields.Integer):
            low, high = _range(field)
            assert low >= INT_MIN and high <= INT_MAX, f"{schema.__name__}.{name}: {low}..{high}"


def test_the_freezer_form_allows_what_the_column_holds_and_no_more() -> None:
    from lims.storage.schemas import FreezerIn

    assert FreezerIn().load({"name": "F" * 60, "room": "B204", "temperature_c": -80})
    with pytest.raises(Exception, match="Name: Length"):
        FreezerIn().load({"name": "F" * 61, "room": "B204", "temperature_c": -80})
