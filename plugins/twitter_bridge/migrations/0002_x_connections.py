from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('twitter_bridge', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='XConnection',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project_id', fields.IntField(unique=True)),
                ('handle', fields.CharField(default='', max_length=100)),
                ('access_token_sealed', fields.TextField(default='', unique=False)),
                ('refresh_token_sealed', fields.TextField(default='', unique=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'twitter_bridge_x_connections', 'app': 'twitter_bridge', 'pk_attr': 'id', 'table_description': "The project's X account connected through OAuth 2.0 PKCE: tokens sealed with"},
            bases=['Model'],
        ),
    ]
