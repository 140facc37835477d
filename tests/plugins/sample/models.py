from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class SampleRecord(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=20)
    label = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sample_records"
