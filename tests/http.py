"""Requests of the Django test client that the tiers share."""

import json


def post(client, url, body=None):
    """POST `body` (an empty object when left out) as JSON."""
    return client.post(url, json.dumps({} if body is None else body), content_type="application/json")
