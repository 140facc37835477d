from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='ApiThrottle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key_id', fields.CharField(max_length=20)),
                ('method', fields.CharField(max_length=40)),
                ('not_before', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('quota_remaining', fields.IntField(null=True)),
                ('quota_max', fields.IntField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'stackoverflow_throttle', 'app': 'stackoverflow_bridge', 'unique_together': (('key_id', 'method'),), 'pk_attr': 'id', 'table_description': 'What the API said about one key (an empty key_id: no key, counted per IP): the last'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MirroredQuestion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project_id', fields.IntField(db_index=True)),
                ('question_id', fields.BigIntField()),
                ('topic_id', fields.IntField(db_index=True)),
                ('topic_slug', fields.CharField(default='', max_length=80)),
                ('title', fields.CharField(max_length=300)),
                ('link', fields.CharField(max_length=500)),
                ('author_name', fields.CharField(default='', max_length=120)),
                ('author_link', fields.CharField(default='', max_length=500)),
                ('score', fields.IntField(default=0)),
                ('answer_count', fields.IntField(default=0)),
                ('is_answered', fields.BooleanField(default=False)),
                ('accepted_answer_id', fields.BigIntField(null=True)),
                ('licence', fields.CharField(max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('imported_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('refreshed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted', fields.BooleanField(default=False)),
            ],
            options={'table': 'stackoverflow_questions', 'app': 'stackoverflow_bridge', 'unique_together': (('project_id', 'question_id'),), 'pk_attr': 'id', 'table_description': 'A Stack Overflow question mirrored as a topic of one project.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PollCursor',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project_id', fields.IntField(unique=True)),
                ('fromdate', fields.BigIntField(null=True)),
                ('seen_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('last_poll_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_result', fields.CharField(default='', max_length=300)),
            ],
            options={'table': 'stackoverflow_cursors', 'app': 'stackoverflow_bridge', 'pk_attr': 'id', 'table_description': "Where a project's next poll starts: the creation date (epoch seconds) of the newest"},
            bases=['Model'],
        ),
    ]
