from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='ImportedMention',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project_id', fields.IntField(db_index=True)),
                ('source', fields.CharField(max_length=20)),
                ('external_id', fields.CharField(max_length=300)),
                ('conversation_id', fields.CharField(null=True, db_index=True, max_length=300)),
                ('parent_id', fields.CharField(null=True, max_length=300)),
                ('topic_id', fields.IntField(null=True)),
                ('post_id', fields.IntField(null=True)),
                ('author_handle', fields.CharField(default='', max_length=200)),
                ('author_name', fields.CharField(default='', max_length=200)),
                ('author_url', fields.CharField(default='', max_length=500)),
                ('url', fields.CharField(default='', max_length=500)),
                ('excerpt', fields.CharField(default='', max_length=300)),
                ('mentioned_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('imported_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('reply_ref', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reply_state', fields.CharField(default='none', max_length=12)),
                ('reply_external_id', fields.CharField(null=True, db_index=True, max_length=300)),
                ('reply_error', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'twitter_bridge_mentions', 'app': 'twitter_bridge', 'unique_together': (('project_id', 'source', 'external_id'),), 'pk_attr': 'id', 'table_description': 'A mention that became a thread (or a reply in one). Unique per project, network'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SourceState',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project_id', fields.IntField(db_index=True)),
                ('source', fields.CharField(max_length=20)),
                ('cursor', fields.CharField(null=True, max_length=100)),
                ('not_before', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failing', fields.BooleanField(default=False)),
                ('failure', fields.CharField(default='', max_length=500)),
                ('last_polled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('imported', fields.IntField(default=0)),
                ('spend_month', fields.CharField(default='', max_length=7)),
                ('spend_cents', fields.IntField(default=0)),
            ],
            options={'table': 'twitter_bridge_sources', 'app': 'twitter_bridge', 'unique_together': (('project_id', 'source'),), 'pk_attr': 'id', 'table_description': 'Where polling a network for a project stands.'},
            bases=['Model'],
        ),
    ]
