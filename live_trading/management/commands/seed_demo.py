from config.cli import RefusingCommand
from live_trading.demo import DEMO_USER, STAFF_USER, load_demo_data


class Command(RefusingCommand):
    help = "Create the demo user, a staff user, a paper broker connection and the example strategies (idempotent)."

    def handle(self, *args, **options):
        data = load_demo_data()
        self.stdout.write(
            f"demo user   {DEMO_USER['username']} / {DEMO_USER['password']}  (user_id {data.demo_user.user_id})\n"
            f"staff user  {STAFF_USER['username']} / {STAFF_USER['password']}\n"
            f"broker      {data.broker.account_id} ({data.broker.broker_type}, id {data.broker.id})\n"
            f"strategies  {len(data.strategies)}: {', '.join(s.name for s in data.strategies) or 'none'}"
        )
