"""Salesforce record mutation rules shared by single-record and collection writes."""

from __future__ import annotations

from typing import Any

from sandbox.formats import sf_id
from sandbox.sf_schema import BY_NAME, PREFIX, from_wire, updateable
from sandbox.state import State

RecordError = dict[str, Any]
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}


def err(code: str, message: str, fields: list[str] | None = None) -> RecordError:
    """A per-record error (`statusCode`, not `errorCode`)."""
    return {"statusCode": code, "message": message, "fields": fields or []}


def validate(
    state: State, obj: str, values: dict[str, Any]
) -> tuple[dict[str, Any], list[RecordError]]:
    """Convert submitted fields to Python values; unknown or read-only fields are errors."""
    converted: dict[str, Any] = {}
    errors: list[RecordError] = []
    for key, value in values.items():
        if key in ("attributes",) or key.lower() == "id":
            continue
        f = BY_NAME[obj].get(key.lower())
        if f is None:
            errors.append(
                err("INVALID_FIELD", f"No such column '{key}' on sobject of type {obj}", [key])
            )
            continue
        if not updateable(obj, f):
            errors.append(
                err(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {f.name}. Please check the security settings "
                    "of this field and verify that it is read/write for your profile or permission set.",
                    [f.name],
                )
            )
            continue
        try:
            converted[f.name] = from_wire(obj, f, value)
        except ValueError as exc:
            code, message = exc.args if len(exc.args) == 2 else ("INVALID_FIELD", str(exc))
            errors.append(err(code, message, [f.name]))
    return converted, errors


def check_update(
    state: State, obj: str, rid: str, values: dict[str, Any]
) -> tuple[dict[str, Any], list[RecordError]]:
    """Validate an update of one record, including injected per-record faults."""
    record = state.world.sf[obj].get(rid) if rid else None
    if record is None or not rid.startswith(PREFIX[obj]):
        if len(rid or "") not in (15, 18):
            return {}, [err("MALFORMED_ID", f"Id in URL or body is not valid: {rid}", ["Id"])]
        return {}, [err("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")]
    if record["IsDeleted"]:
        return {}, [err("ENTITY_IS_DELETED", "entity is deleted")]
    converted, errors = validate(state, obj, values)
    injected = state.faults.record_error(rid)
    if injected and not errors:
        errors.append(err(*injected))
    return converted, errors


def apply_update(
    state: State, obj: str, rid: str, converted: dict[str, Any], submitted: dict[str, Any]
) -> None:
    """Apply validated values; SystemModstamp and LastModifiedDate always move."""
    now = state.world.clock.now()
    record = state.world.sf[obj][rid]
    record.update(converted)
    record["LastModifiedDate"] = now
    record["SystemModstamp"] = now
    changes = {k: v for k, v in submitted.items() if k != "attributes" and k.lower() != "id"}
    state.record_write("salesforce", f"{obj.lower()}_fields", rid, changes)


def check_create(
    state: State, obj: str, values: dict[str, Any]
) -> tuple[dict[str, Any], list[RecordError]]:
    """Validate a new record (required fields per object)."""
    converted, errors = validate(state, obj, values)
    required = {
        "Account": ["Name"],
        "Opportunity": ["Name", "StageName", "CloseDate"],
        "Contact": ["LastName"],
    }.get(obj, [])
    missing = [f for f in required if converted.get(f) in (None, "")]
    if missing and not errors:
        errors.append(
            err(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        )
    return converted, errors


def apply_create(
    state: State, obj: str, converted: dict[str, Any], submitted: dict[str, Any]
) -> str:
    """Insert a record with defaults; returns its new id."""
    world = state.world
    now = world.clock.now()
    rid = sf_id(PREFIX[obj], world.next_number(f"new:{obj}", 900_000))
    record: dict[str, Any] = {f.name: None for f in BY_NAME[obj].values()}
    record.update(
        Id=rid, IsDeleted=False, CreatedDate=now, LastModifiedDate=now, SystemModstamp=now
    )
    if "OwnerId" in record:
        record["OwnerId"] = next(iter(world.sf["User"]))
    if obj == "Task":
        record.update(Status="Not Started", Priority="Normal")
    record.update(converted)
    if obj == "Contact":
        record["Name"] = f"{record.get('FirstName') or ''} {record['LastName']}".strip()
    if obj == "Opportunity":
        stage = record.get("StageName") or ""
        record.update(IsClosed=stage.startswith("Closed"), IsWon=stage == "Closed Won")
    world.sf[obj][rid] = record
    changes = {k: v for k, v in submitted.items() if k != "attributes"}
    state.record_write("salesforce", f"{obj.lower()}_created", rid, changes)
    return rid


def delete(state: State, obj: str, rid: str) -> bool:
    """Move a record to the recycle bin (IsDeleted, visible to queryAll and getDeleted)."""
    record = state.world.sf[obj].get(rid)
    if record is None or record["IsDeleted"]:
        return False
    now = state.world.clock.now()
    record.update(IsDeleted=True, SystemModstamp=now)
    state.world.sf_deleted[obj][rid] = now
    state.record_write("salesforce", f"{obj.lower()}_deleted", rid, {})
    return True
