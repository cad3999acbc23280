"""The OpenAPI document comes from the same models that validate requests."""
from flask.testing import FlaskClient

from app.tracking.schemas import ErrorItem


def test_openapi_describes_the_contract_routes(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path, method in [("/api/v1/auth/register", "post"), ("/api/v1/auth/login", "post"),
                         ("/api/v1/auth/me", "get"), ("/api/v1/errors/batch", "post"),
                         ("/api/v1/errors/", "get"), ("/api/v1/errors/{group_id}", "patch"),
                         ("/api/v1/errors/stats", "get")]:
        assert method in doc["paths"][path], (path, method)
    schemas = doc["components"]["schemas"]
    item = schemas["ErrorItem"]
    assert set(item["properties"]) == set(ErrorItem.model_fields)
    assert item["additionalProperties"] is False
    assert item["properties"]["message"]["maxLength"] == 4096
    batch = doc["paths"]["/api/v1/errors/batch"]["post"]
    assert batch["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BatchRequest")
    assert {"200", "400", "401", "413", "503"} <= set(batch["responses"])
    assert doc["paths"]["/api/v1/auth/me"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in doc["paths"]["/api/v1/auth/login"]["post"]
