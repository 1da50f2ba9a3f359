"""The fuzz tier: schemathesis against the live server, and hypothesis against the graph code."""

import pytest

# Tests that check what the rest of their module did (how many requests the fuzzing sent): after it, in any order.
LAST_IN_MODULE = {"test_the_fuzzing_sent_at_least_5000_requests_all_signed_in"}


@pytest.hookimpl(trylast=True)  # after pytest-randomly has shuffled
def pytest_collection_modifyitems(items):
    last = [item for item in items if getattr(item, "originalname", None) in LAST_IN_MODULE]
    for item in last:
        items.remove(item)
        after = max((i for i, other in enumerate(items) if other.path == item.path), default=len(items) - 1)
        items.insert(after + 1, item)
