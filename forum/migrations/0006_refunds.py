from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('forum', '0005_followups_6_7_8')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RefundRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ledger_entry', fields.ForeignKeyField('forum.LedgerEntry', source_field='ledger_entry_id', db_constraint=True, to_field='id', related_name='refund_requests', on_delete=OnDelete.RESTRICT)),
                ('amount', fields.IntField()),
                ('reason', fields.CharField(max_length=30)),
                ('note', fields.TextField(default='', unique=False)),
                ('requested_by', fields.ForeignKeyField('forum.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name='refund_requests', on_delete=OnDelete.SET_NULL)),
                ('stripe_refund_id', fields.CharField(unique=True, max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'billing_refund_requests', 'app': 'forum', 'pk_attr': 'id', 'table_description': "A refund a project's lead asked Stripe for from the revenue page (the audit trail)."},
            bases=['Model'],
        ),
    ]
