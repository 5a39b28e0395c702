"""A chart's Vega-Lite spec, checked against the Vega-Lite schema by a compiled validator.

Altair checks a spec with the `jsonschema` package: 50-100 ms a chart here, a tenth of what a
chart costs to build. jsonschema-rs checks the same spec against the same schema (the one Altair
ships) in under a millisecond. Only the verdict is taken from it: when it finds the spec invalid,
Altair validates again and its error, which names the property and the value, is the one shown.
tests/test_charts.py checks that the two agree on every chart and on broken ones.

The schema's definition names contain characters a URI fragment may not hold unescaped
("MarkPropDef<(Gradient|string|null)>"): its references are percent-encoded for the validator,
which decodes them to the same names.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import quote

PREFIX = "#/definitions/"


def _encode_refs(node: object) -> object:
    if isinstance(node, dict):
        return {
            k: PREFIX + quote(v[len(PREFIX) :], safe="")
            if k == "$ref" and isinstance(v, str) and v.startswith(PREFIX)
            else _encode_refs(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_encode_refs(v) for v in node]
    return node


@cache
def validator():
    """The compiled validator of Altair's Vega-Lite schema (once per process, about 0.1 s)."""
    import jsonschema_rs
    from altair.vegalite.v6.schema import core

    return jsonschema_rs.Draft7Validator(_encode_refs(core.load_schema()))


def is_valid(spec: dict) -> bool:
    return validator().is_valid(spec)


def to_spec(chart) -> dict:
    """chart.to_dict(validate=True), without its cost when the spec is valid."""
    spec = chart.to_dict(validate=False)
    if is_valid(spec):
        return spec
    return chart.to_dict(validate=True)  # raises Altair's own message (or, if it disagrees, passes)
