// Small campaigns that benchmarks (and the tests of the same paths) run: each isolates one cost.
import { parseCampaign, type Campaign } from '../../campaign';

function parsed(yaml: string): Campaign {
  const result = parseCampaign(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.campaign;
}

/** Enrols on sign-up and only listens: every page view scores one point; nothing is ever sent. */
export const LISTENING_CAMPAIGN = parsed(`
id: listening
name: Listening
from: { name: Acme, email: marketing@acme.example }
timezone: Asia/Tokyo
entry: { on: signup.completed }
consent: marketing_email
scoring:
  behaviour:
    - { on: page.viewed, points: 1, max: 1000000, label: page views }
stages: { warm: 900000, hot: 950000 }
tracks:
  cold:
    - wait: 60d
`);

/** Entered only by launches: one welcome email at once, any day and hour, then a long wait. */
export const WELCOME_CAMPAIGN = parsed(`
id: welcome-only
name: Welcome only
from: { name: Acme, email: marketing@acme.example }
timezone: Asia/Tokyo
entry: { on: never.sent }
consent: marketing_email
scoring:
  behaviour:
    - { on: email.opened, points: 1, label: opens }
stages: { warm: 50, hot: 75 }
send_window: { days: every_day, spread: 0 }
tracks:
  cold:
    - email: { template: welcome, subject: "Your guide is ready, {{lead.first_name}}" }
    - wait: 60d
`);
