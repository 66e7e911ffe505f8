"""The `sobjects/<obj>/describe` body: every key the REST API's DescribeSObjectResult carries.

Per the REST guide ("Get Field and Other Metadata for an Object") and the SOAP guide's
DescribeSObjectResult / Field tables. Keys are always present, as the real API sends them;
values are derived from `sandbox.sf_schema` (types, picklists, references, read-only fields).

Simplified: one record type (Master); no layouts, compact layouts, quick actions or action
overrides behind the `urls`; child relationships list only the sandbox's own objects;
`WhatId` references Account alone (real Task.WhatId is polymorphic over many objects).
"""

from __future__ import annotations

from typing import Any

from sandbox import credentials as cred
from sandbox.sf_schema import FIELDS, PICKLISTS, PREFIX, RESTRICTED, Field, updateable

LABEL_PLURAL = {
    "Account": "Accounts",
    "Opportunity": "Opportunities",
    "Contact": "Contacts",
    "User": "Users",
    "Task": "Tasks",
}
CHILD_RELATIONSHIP = {  # (child object, field) -> relationship name on the parent
    ("Account", "ParentId"): "ChildAccounts",
    ("Opportunity", "AccountId"): "Opportunities",
    ("Contact", "AccountId"): "Contacts",
    ("Task", "WhatId"): "Tasks",
}
SOAP_TYPE = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "datetime": "xsd:dateTime",
    "date": "xsd:date",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
}
TEXT = ("string", "picklist", "url", "email", "textarea")
NAME_FIELD = {"Task": "Subject"}  # every other object's name field is `Name`
ID_LOOKUP = {"Id", "Name", "Email", "Username"}
MASTER_RECORD_TYPE = "012000000000000AAA"
SYSTEM = {"Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp"}


def _length(f: Field) -> int:
    if f.type in ("id", "reference"):
        return 18
    if f.type == "textarea":
        return 32768
    return 255 if f.type in TEXT else 0


def describe_field(obj: str, f: Field) -> dict[str, Any]:
    """One entry of `fields`: the Field keys of DescribeSObjectResult."""
    writable = updateable(obj, f)
    number = f.type in ("double", "currency", "percent")
    length = _length(f)
    picklist = PICKLISTS.get(f.name) or PICKLISTS.get(f"{f.name}@{obj}") or ()
    is_name = f.name == NAME_FIELD.get(obj, "Name")
    return {
        "aggregatable": f.type != "textarea",
        "aiPredictionField": False,
        "autoNumber": False,
        "byteLength": length * 3 if f.type in TEXT else length,
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": writable or f.name == "Name",
        "custom": f.custom,
        "defaultValue": False if f.type == "boolean" else None,
        "defaultValueFormula": None,
        "defaultedOnCreate": f.name in SYSTEM or f.name == "OwnerId" or f.type == "boolean",
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": 9 if f.type == "int" else 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": False,
        "extraTypeInfo": "plaintextarea" if f.type == "textarea" else None,
        "filterable": True,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": f.type not in ("textarea", "double", "currency", "percent", "datetime"),
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": f.name in ID_LOOKUP,
        "inlineHelpText": None,
        "label": f.name.replace("__c", "").replace("_", " "),
        "length": length,
        "mask": None,
        "maskType": None,
        "name": f.name,
        "nameField": is_name,
        "namePointing": f.name == "WhatId",
        "nillable": f.name not in ("Id", "Name", "IsDeleted", "OwnerId", "LastName"),
        "permissionable": f.custom,
        "picklistValues": [
            {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
            for v in picklist
        ],
        "polymorphicForeignKey": f.name == "WhatId",
        "precision": 18 if number else 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": [f.reference_to] if f.reference_to else [],
        "relationshipName": f.relationship,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": f.name in RESTRICTED,
        "scale": 2 if number else 0,
        "searchPrefilterable": False,
        "soapType": SOAP_TYPE.get(f.type, "xsd:string"),
        "sortable": f.type != "textarea",
        "type": f.type,
        "unique": f.name == "Username",
        "updateable": writable,
        "writeRequiresMasterRead": False,
    }


def _children(obj: str) -> list[dict[str, Any]]:
    return [
        {
            "cascadeDelete": False,
            "childSObject": child,
            "deprecatedAndHidden": False,
            "field": f.name,
            "junctionIdListNames": [],
            "junctionReferenceTo": [],
            "relationshipName": CHILD_RELATIONSHIP.get((child, f.name)),
            "restrictedDelete": False,
        }
        for child, fields in FIELDS.items()
        for f in fields
        if f.reference_to == obj
    ]


def describe_summary(obj: str, version: str) -> dict[str, Any]:
    """The object's entry in `GET sobjects` (the describe without fields and relationships)."""
    base = f"/services/data/v{version}/sobjects/{obj}"
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": True,
        "custom": False,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": True,
        "deprecatedAndHidden": False,
        "feedEnabled": obj != "User",
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": PREFIX[obj],
        "label": obj,
        "labelPlural": LABEL_PLURAL[obj],
        "layoutable": True,
        "mergeable": obj in ("Account", "Contact"),
        "mruEnabled": True,
        "name": obj,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": True,
        "updateable": True,
        "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
    }


def describe(obj: str, version: str) -> dict[str, Any]:
    """The `sobjects/<obj>/describe` body."""
    base = f"/services/data/v{version}/sobjects/{obj}"
    ui = cred.SF_INSTANCE_URL
    body = describe_summary(obj, version)
    body.update(
        {
            "actionOverrides": [],
            "childRelationships": _children(obj),
            "compactLayoutable": True,
            "defaultImplementation": None,
            "extendedBy": None,
            "extendsInterfaces": None,
            "fields": [describe_field(obj, f) for f in FIELDS[obj]],
            "implementedBy": None,
            "implementsInterfaces": None,
            "listviewable": None,
            "lookupLayoutable": None,
            "namedLayoutInfos": [],
            "networkScopeFieldName": None,
            "recordTypeInfos": [
                {
                    "active": True,
                    "available": True,
                    "defaultRecordTypeMapping": True,
                    "developerName": "Master",
                    "master": True,
                    "name": "Master",
                    "recordTypeId": MASTER_RECORD_TYPE,
                    "urls": {"layout": f"{base}/describe/layouts/{MASTER_RECORD_TYPE}"},
                }
            ],
            "searchLayoutable": True,
            "sobjectDescribeOption": "FULL",
            "supportedScopes": [
                {"label": "All accounts" if obj == "Account" else "All", "name": "everything"},
                {"label": "My " + LABEL_PLURAL[obj].lower(), "name": "mine"},
            ],
        }
    )
    body["urls"].update(
        {
            "compactLayouts": f"{base}/describe/compactLayouts",
            "approvalLayouts": f"{base}/describe/approvalLayouts",
            "uiDetailTemplate": f"{ui}/{{ID}}",
            "uiEditTemplate": f"{ui}/{{ID}}/e",
            "uiNewRecord": f"{ui}/{PREFIX[obj]}/e",
            "listviews": f"{base}/listviews",
            "quickActions": f"{base}/quickActions",
            "layouts": f"{base}/describe/layouts",
        }
    )
    return body
