/**
 * Word pools and clause templates for synthetic prompt text, per domain, plus per-task requests ("asks"),
 * synonyms and filler phrases for paraphrases. Data only. Slots: {o} topic, {r} unique reference, any other
 * letter names a pool of the domain.
 */
export type TextDomain = 'support' | 'docs' | 'code' | 'reports' | 'ops';

export interface DomainSpec {
  topics: readonly string[];
  pools: Readonly<Record<string, readonly string[]>>;
  openers: readonly string[];
  bodies: readonly string[];
  refs: readonly string[];
  queries: readonly string[];
  chunks: readonly string[];
  followups: readonly string[];
  steps: readonly string[];
}

const DAYS = ['2', '3', '4', '5', '7', '9', '12', '15', '20', '30', '45', '90'];

export const DOMAIN_SPECS: Record<TextDomain, DomainSpec> = {
  support: {
    topics: ['shipping delays', 'returns', 'billing', 'password reset', 'warranty', 'gift cards', 'subscriptions', 'damaged items',
      'loyalty points', 'order changes', 'refund status', 'account security'],
    pools: {
      p: ['wireless earbuds', 'standing desk', 'coffee grinder', 'running shoes', 'smart thermostat', 'yoga mat', 'phone case', 'air purifier',
        'hiking backpack', 'blender', 'monitor arm', 'desk lamp', 'water bottle', 'e-reader', 'mechanical keyboard', 'webcam', 'mesh router',
        'robot vacuum', 'electric kettle', 'rain jacket', 'baby monitor', 'office chair', 'gaming mouse', 'bike helmet'],
      x: ['stopped working', 'arrived damaged', 'was charged twice', 'never arrived', 'keeps disconnecting', 'was cancelled without notice',
        'is missing parts', 'shows the wrong size', 'came in the wrong color', 'overheats quickly', 'will not turn on', 'makes a loud noise',
        'was delivered to a neighbour', 'has a cracked screen', 'lost its charge'],
      q: ['blue', 'large', 'premium', 'refurbished', 'discounted', 'bundled', 'express', 'international', 'replacement', 'limited edition'],
      t: ['yesterday', 'last week', 'this morning', 'two days ago', 'on Monday', 'over the weekend', 'an hour ago', 'last month',
        'right after unboxing', 'after the update'],
      d: DAYS,
    },
    openers: ['Hi, I have a question about {o}.', 'Hello support team, this is about {o}.', 'Good morning, I need help with {o}.',
      'Hey there, a {o} question.', 'Hi, I am writing regarding {o}.'],
    bodies: ['My {q} {p} {x} {t}.', 'I ordered the {q} {p} {t} and it {x}.', 'The {p} I bought {t} {x} and the app shows a {q} status.',
      'I tried resetting the {p} {d} times but it still {x}.', 'Your website says the {q} {p} {x}, which makes no sense to me.',
      'Since {t} my {p} {x} every single time I open it.', 'My partner has the same {q} {p} and it {x} {t} as well.'],
    refs: ['My order number is {r}.', 'The reference on my receipt is {r}.', 'Ticket {r} was opened for this.', 'Account id {r}, in case you need it.'],
    queries: [
      'return policy for order {r} on account {s} with a {q} {p} that {x}',
      'refund for order {r} on account {s} because the {p} {x} {t}',
    ],
    chunks: [
      'Policy section {d}: a {q} {p} from order {r} that {x} within {d} days is eligible for {o} handling {t}.',
      'Agents note {d}: when a {p} {x} {t}, ticket {r} gets the {q} {o} workflow and a follow-up.',
    ],
    followups: [
      'Thanks. What about the {q} {p} on order {r}, the one that {x} {t}? My account is {s}.',
      'Okay, I tried that {t} with case {r} but the {p} {x} again, account {s} still shows it.',
      'One more thing about order {r}: can I get the {q} {p} instead? Mine {x} too, see account {s}.',
      'That did not help, my {p} from order {r} {x} {t} and the portal for {s} is no use.',
    ],
    steps: [
      'Tool lookup_order returned {d} rows for order {r}: the {q} {p} {x} {t}, customer {s}.',
    ],
  },
  docs: {
    topics: ['sso setup', 'api rate limits', 'data retention', 'billing exports', 'audit logs', 'webhooks', 'role permissions', 'backup policy',
      'terraform provider', 'ip allowlists', 'service accounts', 'usage quotas', 'region failover', 'encryption keys'],
    pools: {
      p: ['the admin console', 'the REST API', 'the CLI', 'the python SDK', 'the dashboard', 'the deployment guide', 'the security whitepaper',
        'the onboarding checklist', 'the migration runbook', 'the status page', 'the helm chart', 'the changelog', 'the go SDK', 'the FAQ page'],
      x: ['configure', 'rotate', 'export', 'disable', 'audit', 'migrate', 'enable', 'limit', 'monitor', 'automate', 'restore', 'document',
        'test', 'share'],
      q: ['staging', 'production', 'EU', 'enterprise', 'legacy', 'self-hosted', 'multi-tenant', 'read-only', 'default', 'regional', 'sandbox',
        'trial'],
      t: ['in version 4', 'since the last release', 'for new workspaces', 'after the upgrade', 'in the free plan', 'for existing tenants',
        'during an incident', 'on the enterprise tier', 'before the migration', 'without downtime'],
      d: DAYS,
    },
    openers: ['Question about {o}.', 'I need help understanding {o}.', 'Our team is stuck on {o}.', 'Looking for guidance on {o}.'],
    bodies: ['According to {p}, how do we {x} {o} for {q} environments {t}?', 'Our team wants to {x} the {q} setup and {p} disagrees with the wiki.',
      'I read {p} twice but still cannot tell whether we can {x} it {t}.', 'We need to {x} the {q} workspace {t} and {p} is vague.',
      'The passage from {p} says {q} admins must {x} it {t}.', 'Someone on the {q} team tried to {x} it through {p} and failed.'],
    refs: ['Retrieved context: passages {r} and their neighbours.', 'Context ids {r}, ranked by relevance.', 'Sources attached under {r}.'],
    queries: [
      'how to {x} {o} for project {r} in workspace {s} {t}',
      '{o} {x} steps for tenant {r} on cluster {s} using {p}',
      'can we {x} {o} in org {r} for team {s} on the {q} plan',
      'where does {p} explain how team {r} in project {s} can {x} {o}',
      '{q} {o} limits for account {r} in region {s} when we {x} through {p}',
    ],
    chunks: [
      'Section {d} of {p} ({r}): to {x} {o} for {q} tenants, an administrator opens the settings page and follows the {q} procedure {t}.',
      'Note {d} in {r}: {o} can be changed {t}; use {p} to {x} it and check the {q} audit trail afterwards.',
      'Warning {r}: when you {x} {o} on {q} workspaces, {p} applies the change after {d} minutes {t}.',
    ],
    followups: [
      'Follow-up on {r}: does the same apply when workspace {s} needs to {x} {o} {t}?',
      'Thanks. And for {q} tenants like {r}, how would we {x} it in project {s}?',
      'Can you quote the part of {p} for {r} that covers this in the {q} workspace {s}?',
      'What changes {t} for {r} if we {x} it from {p} in org {s}?',
    ],
    steps: [
      'Tool search_docs returned {d} passages from {p} for {r} about {o}; index {s} was used.',
    ],
  },
  code: {
    topics: ['authentication middleware', 'database migrations', 'the payment client', 'retry logic', 'the caching layer', 'unit tests',
      'the CSV parser', 'date handling', 'the websocket handler', 'config loading', 'the job scheduler', 'error handling', 'pagination',
      'the search index'],
    pools: {
      p: ['UserService', 'OrderRepository', 'parseConfig', 'the React hook', 'the Go worker', 'the SQL query', 'the Dockerfile',
        'the GraphQL resolver', 'the Kafka consumer', 'the Redis client', 'the CLI command', 'the Lambda handler', 'the Rust crate',
        'the Django view'],
      x: ['throws a null pointer error', 'leaks memory', 'times out', 'returns stale data', 'fails the type check', 'deadlocks under load',
        'double counts rows', 'ignores the timeout', 'breaks on empty input', 'runs twice', 'loses precision', 'blocks the event loop',
        'swallows the exception', 'mutates shared state'],
      q: ['async', 'generic', 'typed', 'immutable', 'thread-safe', 'idempotent', 'streaming', 'batched', 'lazy', 'paginated', 'cached',
        'versioned'],
      t: ['after the refactor', 'since we bumped the dependency', 'only in CI', 'on large inputs', 'under Node 20', 'in production only',
        'when the cache is cold', 'on the second call', 'with the new linter', 'after a restart'],
      d: DAYS,
    },
    openers: ['Working on {o}.', 'Context: {o}.', 'I have a problem with {o}.', 'Question about {o} in our repo.'],
    bodies: ['{p} {x} {t}.', 'I am changing {p} and it {x} whenever the input is {q}.', 'We want the {q} path to stay simple, but {p} {x} {t}.',
      'The {q} version of {p} {x} and nobody on the team knows why.', 'After {d} attempts {p} still {x} in the {q} build.',
      'A colleague made {p} {q} {t} and now it {x}.'],
    refs: ['Relevant code is in {r}.', 'See the diff at {r}.', 'Stack trace and file excerpt attached as {r}.', 'Cursor position {r}.'],
    queries: [
      '{p} {x} in {r} with {q} input from {s} {t}',
      'fix {o} in {r} on branch {s} when {p} {x}',
    ],
    chunks: [
      'File {r}: {p} implements {o} with a {q} design; it {x} {t}.',
      'Module {r} wraps {p} for {o}; the {q} path {x} {t}.',
    ],
    followups: [
      'That fixed one case in {r}, but {p} still {x} {t}. Updated snippet {s}.',
      'Could you make {p} in {r} {q} as well? The test file is {s}.',
      'Now the tests in {r} for {o} fail {t} and {p} {x}, log {s}.',
      'Why did you change {p} in {r}? It {x} {t} now, diff {s}.',
    ],
    steps: [
      'Tool run_tests returned {d} failures in {r} for {p}: it {x} {t}, job {s}.',
    ],
  },
  reports: {
    topics: ['quarterly revenue', 'customer churn', 'supplier contracts', 'incident postmortems', 'board minutes', 'sales calls',
      'support backlog', 'hiring pipeline', 'marketing spend', 'product feedback', 'compliance findings', 'cloud costs'],
    pools: {
      p: ['the weekly report', 'the call transcript', 'the meeting notes', 'the invoice batch', 'the vendor contract', 'the survey export',
        'the analyst memo', 'the email thread', 'the status update', 'the audit log', 'the sales deck', 'the customer letter'],
      x: ['highlights risks', 'lists decisions', 'mentions deadlines', 'reports totals', 'flags anomalies', 'names owners',
        'compares regions', 'tracks targets', 'quotes customers', 'records approvals', 'estimates costs', 'proposes changes'],
      q: ['EMEA', 'north american', 'enterprise', 'mid-market', 'internal', 'confidential', 'draft', 'final', 'monthly', 'regional',
        'annual', 'partner'],
      t: ['for last week', 'for the third quarter', 'from yesterday', 'for March', 'for the last 30 days', 'from the offsite',
        'for the holiday period', 'from the board meeting', 'for the pilot', 'since the reorg'],
      d: DAYS,
    },
    openers: ['Task about {o}.', 'Input on {o} follows.', 'This batch covers {o}.', 'Document set on {o}.'],
    bodies: ['Below is {p} {t} written for the {q} team.', 'The text {x} and it is the {q} version of {p}.',
      '{p} {t} {x} in several sections.', 'This {q} copy of {p} {x} across {d} pages.', 'Attached is {p} that {x} {t}.',
      'The {q} owners asked for {p} because it {x}.'],
    refs: ['Document id {r}.', 'Source file {r}.', 'Batch item {r}.'],
    queries: [
      '{o} in {r} for reader {s} from {p} {t}',
    ],
    chunks: [
      'Page {d} of {p} ({r}): it {x} for the {q} unit {t}.',
      'Appendix {d} of {r}: {p} {x} about {o} {t}.',
    ],
    followups: [
      'Thanks. Can you expand the part about {o} in {r} for reader {s}?',
      'Shorter please, and only the {q} figures from {r} and {s}.',
      'Which items in {r} {x} {t}, compared with {s}?',
      'Add the {q} numbers from {p} in {r} to draft {s}.',
    ],
    steps: [
      'Tool fetch_document returned {d} pages of {p} for {r}; cache key {s}.',
    ],
  },
  ops: {
    topics: ['disk pressure', 'pod restarts', 'latency spikes', 'certificate expiry', 'queue backlog', 'failed deploys', 'dns errors',
      'memory leaks', 'cpu throttling', 'replication lag', 'packet loss', 'error budget burn'],
    pools: {
      p: ['checkout-api', 'auth-service', 'the ingest pipeline', 'the payments cluster', 'the edge proxy', 'the postgres primary',
        'the search cluster', 'the billing worker', 'the CDN', 'the kafka brokers', 'the metrics stack', 'the batch scheduler'],
      x: ['is alerting', 'paged the on-call', 'degraded', 'crossed the threshold', 'recovered then failed again', 'is flapping',
        'dropped traffic', 'filled the disk', 'rolled back', 'stopped reporting', 'returned 502s', 'slowed down'],
      q: ['us-east', 'eu-west', 'canary', 'blue', 'green', 'staging', 'production', 'secondary', 'shadow', 'ap-south'],
      t: ['at 03:12 UTC', 'since the deploy', 'for 20 minutes', 'twice this hour', 'after the config change', 'during the traffic peak',
        'since midnight', 'on every node', 'after the failover', 'right after the cron run'],
      k: ['get_metrics', 'query_logs', 'describe_pod', 'list_alerts', 'run_sql', 'get_deploys', 'check_dns', 'read_runbook', 'get_traces',
        'list_nodes'],
      d: DAYS,
    },
    openers: ['Investigating {o}.', 'New alert on {o}.', 'Incident in progress: {o}.', 'Heads up about {o}.'],
    bodies: ['{p} {x} {t} in the {q} region.', 'The monitor says {p} {x} and the {q} replicas look unhealthy.',
      'The {q} dashboard shows trouble on {p} {t}.', 'We see {p} {x} {t} while traffic is normal.',
      'On-call noticed that {p} {x} after {d} retries in {q}.', 'Since {p} {x}, the {q} pool is at {d} percent.'],
    refs: ['Incident {r}.', 'Alert id {r}.', 'Runbook link {r}.'],
    queries: [
      '{p} {x} in {r} on {q} cluster {s} {t}',
    ],
    chunks: [
      'Runbook step {d} for {o} ({r}): if {p} {x} in {q}, drain it {t}.',
      'Postmortem {r} notes that {p} {x} {t} during {o}.',
    ],
    followups: [
      'Still happening on {r}: {p} {x} {t}. Update {s}.',
      'What about the {q} replicas of {p} in {r}? See {s}.',
    ],
    steps: [
      'Tool {k} returned {d} rows for {r} about {o} on {p}; trace {s} was attached.',
      'Observation {r}: {p} {x} {t}; the {k} output is in {s}.',
      'The {k} call for {r} finished: {q} nodes of {p} {x}, span {s}.',
      'Result of {k} for {r}: {d} events on {p} in {q}, request {s}.',
    ],
  },
};

export const TASK_ASKS: Record<string, readonly string[]> = {
  faq: ['Can you tell me what the policy is?', 'What are my options here?', 'How does this normally work?', 'Is this covered by your terms?'],
  troubleshooting: ['What should I do to fix it?', 'Please walk me through the steps to get it working.', 'How can I solve this without sending it back?'],
  account_change: ['Please update my account accordingly.', 'Can you change this on my profile?', 'I would like you to switch it for me.'],
  classification: ['Classify this into billing, shipping, technical or account and answer with one label.', 'Return the category and the priority as JSON.',
    'Which queue should this go to? Answer with one word.'],
  drafting: ['Draft a polite reply to the customer.', 'Write a short answer the agent can send.', 'Suggest a friendly response with next steps.'],
  short_answer: ['Answer in one or two sentences.', 'Give me a short direct answer.', 'Keep the answer brief, please.'],
  synthesis: ['Combine the sources into one clear explanation.', 'Write a complete answer with citations.', 'Explain it step by step using the passages.'],
  comparison: ['Compare the options and recommend one.', 'What are the differences between the two approaches?', 'Show a table of pros and cons.'],
  code_completion: ['Complete the code at the cursor.', 'Continue the implementation.', 'Fill in the missing lines.'],
  refactor: ['Refactor it to be cleaner and explain the change.', 'Rewrite it so it is easier to test.', 'Suggest a safer design.'],
  debugging: ['Find the bug and propose a fix.', 'Why does this happen and how do I fix it?', 'Help me debug this, please.'],
  explanation: ['Explain what this code does.', 'Walk me through how this works.', 'Explain the root cause in plain words.'],
  code_review: ['Review the diff and list problems by severity.', 'Point out bugs, risks and missing tests.', 'Give review comments for this change.'],
  summarization: ['Summarize it in five bullet points.', 'Write an executive summary of one paragraph.', 'Summarize the key points and open questions.'],
  extraction: ['Extract the vendor, date, total and currency as JSON.', 'Pull out every amount and due date.', 'Return the key fields as a JSON object.'],
  planning: ['Plan the investigation and pick the first tool to call.', 'Decide which checks to run first.', 'Outline the steps to mitigate this.'],
  tool_selection: ['Which tool should be called next, and with what arguments?', 'Pick the next tool call.'],
  evaluation: ['Grade the answer from 1 to 5 and justify the score.', 'Judge whether the response is correct and complete.', 'Score the reply against the rubric.'],
};

/** Single-word synonyms used by paraphrases (keys lower-case, matched on whole space-separated words). */
export const SYNONYMS: Readonly<Record<string, string>> = {
  question: 'query', help: 'assistance', need: 'require', tried: 'attempted', still: 'yet', bought: 'purchased', ordered: 'purchased',
  says: 'states', makes: 'seems to make', every: 'each', open: 'launch', team: 'group', wants: 'would like', read: 'went through',
  vague: 'unclear', whenever: 'each time', version: 'release', nobody: 'no one', knows: 'understands', below: 'here', covering: 'about',
  several: 'multiple', copy: 'edition', shows: 'displays', unhealthy: 'broken', see: 'notice', explain: 'describe', short: 'brief',
  brief: 'concise', clear: 'plain', complete: 'full', list: 'enumerate', summarize: 'sum up', polite: 'courteous', reply: 'response',
  find: 'locate', bug: 'defect', propose: 'suggest', suggest: 'recommend', options: 'choices', answer: 'reply', recommend: 'advise',
  differences: 'distinctions', cleaner: 'tidier', safer: 'more robust', risks: 'dangers', key: 'main', decide: 'choose', pick: 'select',
  grade: 'rate', judge: 'assess', steps: 'stages', fields: 'values', missing: 'absent', plain: 'simple', policy: 'rule',
  normally: 'usually', change: 'modify', update: 'amend', switch: 'swap', category: 'class', priority: 'urgency', friendly: 'warm',
  direct: 'straight', problem: 'issue', stuck: 'blocked', guidance: 'advice', attached: 'included', alert: 'alarm', monitor: 'watcher',
  colleague: 'coworker', attempts: 'tries', asked: 'requested', task: 'job', trouble: 'problems', noticed: 'saw', regarding: 'about',
  writing: 'reaching out', failed: 'did not work', tell: 'say', fix: 'repair', walk: 'guide', solve: 'resolve', write: 'compose',
};

export const FILLERS_START: readonly string[] = ['Quick question:', 'Hi again,', 'Sorry to bother you,', 'Hey,', 'So,', 'Basically,', 'Hello,'];
export const FILLERS_INNER: readonly string[] = ['please', 'actually', 'just', 'really', 'basically', 'honestly', 'kind of'];
export const FILLERS_END: readonly string[] = ['Thanks!', 'Thank you.', 'Any ideas?', 'Cheers.', 'Appreciate it.', 'Thanks in advance.'];
