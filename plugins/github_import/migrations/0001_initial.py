from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from plugins.github_import.models import AuthMode, LinkOrigin
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='BulkImportRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project_id', fields.IntField(db_index=True)),
                ('repo', fields.CharField(max_length=200)),
                ('label', fields.CharField(max_length=100)),
                ('kind', fields.CharField(max_length=20)),
                ('page', fields.IntField(default=1)),
                ('last_number', fields.IntField(default=0)),
                ('imported', fields.IntField(default=0)),
                ('skipped', fields.IntField(default=0)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'github_bulk_runs', 'app': 'github_import', 'unique_together': (('project_id', 'repo', 'label', 'kind'),), 'pk_attr': 'id', 'table_description': "A ``forum github import`` of a repository's matching open issues: where it got to,"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Connection',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project_id', fields.IntField(db_index=True)),
                ('repo', fields.CharField(unique=True, max_length=200)),
                ('api_url', fields.CharField(default='https://api.github.com', max_length=300)),
                ('mode', fields.CharEnumField(default=AuthMode.TOKEN, description='TOKEN: token\nAPP: app', enum_type=AuthMode, max_length=5)),
                ('token_sealed', fields.TextField(default='', unique=False)),
                ('app_id', fields.CharField(default='', max_length=40)),
                ('private_key_sealed', fields.TextField(default='', unique=False)),
                ('installation_id', fields.CharField(default='', max_length=40)),
                ('webhook_secret_sealed', fields.TextField(default='', unique=False)),
                ('bot_name', fields.CharField(default='', max_length=100)),
                ('options', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'github_connections', 'app': 'github_import', 'pk_attr': 'id', 'table_description': 'A repository linked to a project. Secrets are stored sealed (Fernet, keyed by the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('delivery_id', fields.CharField(unique=True, max_length=100)),
                ('event', fields.CharField(max_length=60)),
                ('repo', fields.CharField(default='', max_length=200)),
                ('payload', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('result', fields.CharField(default='', max_length=300)),
            ],
            options={'table': 'github_deliveries', 'app': 'github_import', 'pk_attr': 'id', 'table_description': 'A webhook delivery received (by its X-GitHub-Delivery id), kept so a redelivery'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='IssueLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project_id', fields.IntField(db_index=True)),
                ('topic_id', fields.IntField(db_index=True)),
                ('repo', fields.CharField(max_length=200)),
                ('issue_number', fields.IntField()),
                ('issue_node_id', fields.CharField(default='', max_length=100)),
                ('html_url', fields.CharField(default='', max_length=500)),
                ('origin', fields.CharEnumField(description='IMPORTED: imported\nESCALATED: escalated', enum_type=LinkOrigin, max_length=9)),
                ('state', fields.CharField(default='open', max_length=20)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'github_issue_links', 'app': 'github_import', 'unique_together': (('repo', 'issue_number'), ('topic_id', 'repo')), 'pk_attr': 'id', 'table_description': 'A GitHub issue and the topic it belongs to, whichever way it was made.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MirroredComment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('comment_id', fields.BigIntField(unique=True)),
                ('repo', fields.CharField(max_length=200)),
                ('issue_number', fields.IntField()),
                ('topic_id', fields.IntField(db_index=True)),
                ('post_id', fields.IntField()),
                ('deleted', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'github_mirrored_comments', 'app': 'github_import', 'pk_attr': 'id', 'table_description': 'A comment on a linked issue mirrored as a post of its topic (mirror.py), once.'},
            bases=['Model'],
        ),
    ]
