"""Whatever a district writes into a checklist, it is taken or refused with the key named:
never another error (which the web's editor would show as a 500). Built-in checklists, each
changed at a few random places to random values of any kind, by hypothesis."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.checklists import ItemSpec, TemplateError, builtin_specs, spec_from_json

ITEM_FIELDS = [*ItemSpec.__dataclass_fields__, "checked_if", "nonsense"]
TOP_FIELDS = [
    "key",
    "kind",
    "title",
    "items",
    "trip",
    "bot",
    "roles",
    "basis",
    "minimum_frequency",
    "nonsense",
]
BUILT_IN = [spec.to_json() for spec in builtin_specs()]

anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


@st.composite
def changed_checklists(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(draw(st.sampled_from(BUILT_IN)))
    for _ in range(draw(st.integers(1, 3))):
        items = data.get("items")
        if isinstance(items, list) and items and draw(st.booleans()):
            item = items[draw(st.integers(0, len(items) - 1))]
            if isinstance(item, dict):
                item[draw(st.sampled_from(ITEM_FIELDS))] = draw(anything)
        else:
            data[draw(st.sampled_from(TOP_FIELDS))] = draw(anything)
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changed_checklists())
def test_a_changed_checklist_is_taken_or_refused_naming_the_key(data: dict[str, Any]) -> None:
    try:
        spec = spec_from_json(data)
    except TemplateError as refused:
        assert refused.where, f"refused without naming where: {refused}"
        return
    # Taken: it is stored as JSON and read back as the same checklist.
    assert spec_from_json(spec.to_json(), stored=True) == spec
