// SPDX-License-Identifier: MIT
// The `logtriage` command: flags only; each command's work is in commands/. stdout carries data,
// stderr carries messages. Exit codes: 0 success, 1 runtime error, 2 usage error, 3 unverifiable (verify).
import { Command, Option } from 'commander';
import { CONVERT_TYPES, type ConvertType } from '../convert/index.js';
import { ValidationError } from '../errors.js';
import { DEFAULT_GGUF_TYPE, DEFAULT_REPO_ID } from '../hub/index.js';
import { templateParserOptionsSchema } from '../options.js';
import { serverOptionsSchema } from '../server/serverOptions.js';
import { adaptCommand, type AdaptCliOptions } from './commands/adapt.js';
import { benchCommand } from './commands/bench.js';
import { calibrateCommand, type CalibrateCliOptions } from './commands/calibrate.js';
import { CALIBRATION_METHODS } from '../gguf/calibrationKeys.js';
import { DEFAULT_ADAPT_HOLDOUT, DEFAULT_ADAPT_L2, DEFAULT_ADAPT_MIN_PER_LABEL } from '../options.js';
import { DEFAULT_MIN_LINES_PER_LABEL } from '../calibration/fitCalibration.js';
import { classifyCommand, collectLabels, type ClassifyFlags } from './commands/classify.js';
import { convertCommand } from './commands/convert.js';
import { evalCommand, LABELED_FORMATS, type EvalCliOptions } from './commands/eval.js';
import { infoCommand } from './commands/info.js';
import { labelCommand, type LabelCliOptions } from './commands/label.js';
import { collectHeader, FORWARD_FORMATS, LOG_LEVELS, parsePort, serveCommand, type ServeCliOptions } from './commands/serve.js';
import { pullCommand, type PullCommandOptions } from './commands/pull.js';
import { addModelFlags, addReviewFlags, addTemplateTierFlag, CALIBRATE_FLAGS, ENGINE_FLAGS, maxLineBytesOption, modelOption, openOptionsFrom, positiveInt, probability, SERVE_FLAGS, THREADS } from './modelFlags.js';
import { WORKER_MODEL_FLAGS, workerCommand, type WorkerCliOptions } from './commands/worker.js';
import { templatesCommand, TEMPLATE_FORMATS, type TemplateFormat } from './commands/templates.js';
import { verifyCommand } from './commands/verify.js';
import { OUTPUT_FORMATS } from './output/recordTypes.js';
import { handleError } from './handleError.js';

const list = (value: string) => value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

function reviewFilterOf(opts: { onlyReview?: boolean; review: boolean }): { reviewFilter?: 'only' | 'exclude' } {
  if (opts.onlyReview && !opts.review) throw new ValidationError('--only-review and --no-review exclude each other');
  if (opts.onlyReview) return { reviewFilter: 'only' };
  return opts.review ? {} : { reviewFilter: 'exclude' };
}

/** The command tree (exported for the docs tests, which compare docs/cli.md's flag tables with it). */
export function buildProgram(): Command {
  const templateDefaults = templateParserOptionsSchema.parse({});
  const program = new Command('logtriage')
    .description('Classify log lines with a fine-tuned Qwen2 sequence classifier, natively (llama.cpp).')
    .option('--verbose', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('convert')
    .description('Convert a HuggingFace Qwen2ForSequenceClassification checkpoint to a logtriage GGUF')
    .argument('<hf-dir>', 'folder with config.json, model.safetensors (or a sharded index), tokenizer.json, tokenizer_config.json')
    .requiredOption('-o, --output <file>', 'GGUF file to write')
    .addOption(new Option('-t, --type <type>', 'tensor type').choices(CONVERT_TYPES).default('f16'))
    .option('--threads <n>', 'threads for quantization', positiveInt)
    .option('-q, --quiet', 'no progress or summary on stderr')
    .addHelpText('after', '\nExamples:\n  $ logtriage convert ./qwen2-1.5b-log-classifier -o models/logs-f16.gguf\n  $ logtriage convert ./ckpt -o models/logs-q8.gguf --type q8_0')
    .action(async (hfDir: string, opts: { output: string; type: ConvertType; threads?: number; quiet?: boolean }) => {
      await convertCommand(hfDir, opts);
    });

  const classify = program
    .command('classify')
    .description('Classify log lines from files (plain or .gz) or stdin; one record per non-blank line on stdout, in input order')
    .argument('[files...]', "log files; '-' or none reads stdin")
    .addOption(modelOption())
    .addOption(new Option('-f, --format <format>', 'output format (default: table on a terminal, else jsonl)').choices(OUTPUT_FORMATS))
    .option('--scores', 'include every label score')
    .option('--text', 'include the line text (the table always shows it)')
    .option('--only <labels>', 'write only these labels (comma-separated, case-insensitive)', collectLabels)
    .option('--min-score <p>', 'write only records whose score is at least p (0 to 1)', probability)
    .option('-F, --follow', 'keep reading lines appended to the files, across rotation and truncation (tail -F); Ctrl-C ends')
    .option('-q, --quiet', 'no progress bar, notices or summary on stderr')
    .option('--no-color', 'no colour (NO_COLOR is honoured too)')
    .option('--json', 'errors as a JSON object {error, code} on stderr')
    .option('--only-review', 'write only records marked review: true')
    .option('--no-review', 'write only records marked review: false')
    .option('--thresholds <file>', 'alert thresholds from eval --thresholds-out: each record gets alert (label has a threshold, score >= it)')
    .option('--only-alerts', 'write only records with alert: true')
    .addOption(maxLineBytesOption());
  addTemplateTierFlag(addReviewFlags(addModelFlags(classify, ENGINE_FLAGS)))
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ logtriage classify app.log --review-min-score 0.7 --only-review > for-a-human.jsonl',
        '  $ logtriage classify /var/log/auth.log --thresholds alerts.json --only-alerts --format ecs',
        '  $ logtriage classify /var/log/auth.log --model models/logs-f16.gguf > triage.jsonl',
        '  $ logtriage classify access.log.gz error.log --model models/logs-f16.gguf --format table --only malicious,suspicious',
        '  $ logtriage classify app.log --format csv --scores --text --min-score 0.8 > review.csv',
        '  $ logtriage classify /var/log/syslog --follow --format ecs --text >> /var/log/logtriage.ndjson',
        '  $ journalctl -f -o cat | logtriage classify --model models/logs-f16.gguf --only Malicious',
      ].join('\n'),
    )
    .action(async (files: string[], opts: ClassifyFlags) => {
      await classifyCommand(files, {
        model: opts.model,
        format: opts.format,
        only: opts.only,
        minScore: opts.minScore,
        ...reviewFilterOf(opts),
        thresholds: opts.thresholds,
        onlyAlerts: opts.onlyAlerts,
        scores: opts.scores === true,
        text: opts.text === true,
        follow: opts.follow === true,
        quiet: opts.quiet === true,
        color: opts.color,
        chunkLines: 256,
        maxLineBytes: opts.maxLineBytes,
        open: openOptionsFrom(opts, ENGINE_FLAGS),
      });
    });

  program
    .command('templates')
    .description("Each log line's template (header found and variables masked by themselves, no model loaded), then the templates by count")
    .argument('[files...]', "log files (plain or .gz); '-' or none reads stdin")
    .addOption(new Option('-f, --format <format>', 'output format (default: table on a terminal, else jsonl; the templates by count go to stderr with jsonl)').choices(TEMPLATE_FORMATS))
    .option('--summary', 'print only the templates by count, on stdout')
    .option('--top <n>', 'list only the n commonest templates in the summary', positiveInt)
    .option('--max-templates <n>', `templates kept; past it the least recently used is evicted (default: ${templateDefaults.maxTemplates})`, positiveInt)
    .option('--similarity <p>', `how alike a line and a template must be to share it, 0 to 1 (default: ${templateDefaults.similarity})`, probability)
    .option('--max-line-length <n>', `characters of a line read (default: ${templateDefaults.maxLineLength})`, positiveInt)
    .option('-q, --quiet', 'nothing on stderr but errors')
    .option('--json', 'errors as a JSON object {error, code} on stderr')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ logtriage templates /var/log/auth.log --summary --top 20',
        '  $ logtriage templates app.log.gz > templates.jsonl',
        "  $ journalctl -o cat | logtriage templates --format table | less -S",
      ].join('\n'),
    )
    .action(async (files: string[], opts: { format?: TemplateFormat; summary?: boolean; top?: number; maxTemplates?: number; similarity?: number; maxLineLength?: number; quiet?: boolean }) => {
      await templatesCommand(files, {
        format: opts.format,
        summary: opts.summary === true,
        top: opts.top,
        quiet: opts.quiet === true,
        parser: { maxTemplates: opts.maxTemplates, similarity: opts.similarity, maxLineLength: opts.maxLineLength },
      });
    });

  program
    .command('info')
    .description('Show a model: labels, architecture, parameters, weight type, context size, head, tokenizer, file size (from the GGUF header); or the backends and devices found')
    .argument('[model]', 'logtriage GGUF file or pulled hub repo id (default: the pulled default model)')
    .option('-m, --model <model>', 'the same as the argument')
    .option('--devices', 'list ggml backends and devices (alone: only them)')
    .option('--plan', 'also the run-time plan open() makes here with default options (device, offload, sizes), each choice with why, and the type and decode size advised for latency and throughput from the rate curves `bench` measured here')
    .option('--measure <log-file>', 'with --plan: measure this model\'s rate curve now on the lines of <log-file> (saved, as `bench` does)')
    .option('--json', 'print JSON (errors too, on stderr)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ logtriage info models/logs-f16.gguf',
        '  $ logtriage info models/logs-q8.gguf --json | jq .model.labels',
        '  $ logtriage info --devices',
        '  $ logtriage info models/logs-q4_0.gguf --plan',
      ].join('\n'),
    )
    .action(async (model: string | undefined, opts: { model?: string; devices?: boolean; plan?: boolean; measure?: string; json?: boolean }) => {
      await infoCommand({ model: model ?? opts.model, devices: opts.devices === true, plan: opts.plan === true || opts.measure !== undefined, measure: opts.measure, json: opts.json === true });
    });

  program
    .command('verify')
    .description("Check a model file against its content digest (SHA-256 per tensor and per metadata key): exit 0 if intact, 1 naming the first part that differs, 3 if it has no digest")
    .argument('[model]', 'logtriage GGUF file or pulled hub repo id (default: the pulled default model)')
    .option('--json', 'print the result as JSON (errors too, on stderr)')
    .option('-q, --quiet', 'no progress bar')
    .addHelpText('after', '\nExamples:\n  $ logtriage verify models/logs-q8.gguf\n  $ logtriage verify models/logs-f16.gguf --json | jq .status')
    .action(async (model: string | undefined, opts: { json?: boolean; quiet?: boolean }) => {
      await verifyCommand({ ...(model !== undefined ? { model } : {}), json: opts.json === true, quiet: opts.quiet === true });
    });

  const evaluate = program
    .command('eval')
    .description('Score a model on labeled log lines (JSON Lines or CSV): accuracy, F1, confusion matrix, HTML report')
    .argument('<labeled-file>', 'a .jsonl or .csv file with a log line and its gold label per row')
    .addOption(modelOption())
    .option('--text-field <name>', 'JSON field or CSV column holding the log line', 'text')
    .option('--label-field <name>', 'JSON field or CSV column holding the gold label (matched case-insensitively)', 'label')
    .addOption(new Option('--format <format>', 'input format (default: from the extension)').choices(LABELED_FORMATS))
    .option('--json', 'print the metrics as JSON instead of a table')
    .option('--report <file>', 'also write a self-contained HTML report')
    .option('--max-examples <n>', 'misclassified rows listed in the report', positiveInt, 500)
    .option('--target-precision <targets>', 'per label the lowest alert threshold reaching a precision, e.g. Malicious=0.95,Error=0.9')
    .option('--thresholds-out <file>', 'write those thresholds as JSON for classify/serve --thresholds')
    .addOption(maxLineBytesOption());
  addTemplateTierFlag(addModelFlags(evaluate, ENGINE_FLAGS))
    .addHelpText('after', '\nExamples:\n  $ logtriage eval held-out.jsonl --model models/logs-f16.gguf --target-precision Malicious=0.95 --thresholds-out alerts.json\n  $ logtriage eval labeled.jsonl --model models/logs-f16.gguf\n  $ logtriage eval tickets.csv --text-field message --label-field severity --model models/logs-f16.gguf --report eval.html\n  $ logtriage eval labeled.jsonl --model models/logs-f16.gguf --json > metrics.json\n  $ logtriage eval labeled.jsonl --model models/logs-f16.gguf --template-tier   # the tier against the model on every row')
    .action(async (file: string, opts: Omit<EvalCliOptions, 'open'>) => {
      await evalCommand(file, { ...opts, open: openOptionsFrom(opts, ENGINE_FLAGS) });
    });

  const calibrate = program
    .command('calibrate')
    .description("Fit a calibration of the model's scores on labeled log lines and write a copy of the model that applies it")
    .argument('<labeled-file>', 'a .jsonl or .csv file with a log line and its gold label per row (not the lines you evaluate on)')
    .option('-m, --model <model>', 'logtriage GGUF file or pulled hub repo id (default: the pulled default model)')
    .option('-o, --output <file>', 'GGUF to write (default: <model>.calibrated.gguf beside the model)')
    .addOption(new Option('--method <method>', "'temperature' (one T, keeps every label) or 'vector' (scale and bias per label; may change labels)").choices(CALIBRATION_METHODS).default('temperature'))
    .option('--min-per-label <n>', 'fewest labeled lines per label (each label present; every label for vector)', positiveInt, DEFAULT_MIN_LINES_PER_LABEL)
    .option('--text-field <name>', 'JSON field or CSV column holding the log line', 'text')
    .option('--label-field <name>', 'JSON field or CSV column holding the gold label (matched case-insensitively)', 'label')
    .addOption(new Option('--format <format>', 'input format (default: from the extension)').choices(LABELED_FORMATS))
    .option('--json', 'print the fit and the figures as JSON')
    .addOption(maxLineBytesOption());
  addModelFlags(calibrate, CALIBRATE_FLAGS)
    .addHelpText('after', '\nExamples:\n  $ logtriage calibrate held-out.jsonl --model models/logs-f16.gguf\n  $ logtriage calibrate tickets.csv --text-field message --model models/logs-q8.gguf --method vector -o models/logs-q8.vector.gguf')
    .action(async (file: string, opts: Omit<CalibrateCliOptions, 'open'>) => {
      await calibrateCommand(file, { ...opts, open: openOptionsFrom(opts, CALIBRATE_FLAGS) });
    });

  const adapt = program
    .command('adapt')
    .description("Fit a new linear head on the model's frozen hidden states of labeled log lines, compare it with the current head on held-out lines, and write a copy of the model with it")
    .argument('<labeled-file>', 'a .jsonl or .csv file with a log line and its label per row (as eval and calibrate read)')
    .option('-m, --model <model>', 'logtriage GGUF file or pulled hub repo id (default: the pulled default model)')
    .requiredOption('-o, --output <file>', 'GGUF to write')
    .option('--holdout <share>', `share of each label's distinct lines held out to compare the heads (default: ${DEFAULT_ADAPT_HOLDOUT})`, Number)
    .option('--folds <k>', 'k-fold comparison instead of a holdout; the head written is fitted on every line', positiveInt)
    .option('--l2 <lambda>', `L2 penalty on the standardised weights (default: ${DEFAULT_ADAPT_L2})`, Number)
    .option('--min-per-label <n>', `fewest labeled lines per label (default: ${DEFAULT_ADAPT_MIN_PER_LABEL})`, positiveInt)
    .option('--new-labels', "fit a head with the file's labels when they are not the model's (in code-point order)")
    .option('--force', 'write the new head even when it is worse on the held-out lines')
    .option('--text-field <name>', 'JSON field or CSV column holding the log line', 'text')
    .option('--label-field <name>', 'JSON field or CSV column holding the label', 'label')
    .addOption(new Option('--format <format>', 'input format (default: from the extension)').choices(LABELED_FORMATS))
    .option('--json', 'print the comparison and the fit as JSON');
  addModelFlags(adapt, CALIBRATE_FLAGS)
    .addHelpText('after', '\nExamples:\n  $ logtriage adapt labeled.jsonl --model models/logs-q8_0.gguf -o models/site.gguf\n  $ logtriage adapt by-system.csv --model models/logs-q8_0.gguf --new-labels --folds 5 -o models/systems.gguf --json')
    .action(async (file: string, opts: Omit<AdaptCliOptions, 'open'>) => {
      await adaptCommand(file, { ...opts, open: openOptionsFrom(opts, CALIBRATE_FLAGS) });
    });

  program
    .command('label')
    .description('Label log lines in a local web page, keyboard only (1-9, 0: a label; s: skip; u: undo); appends JSON Lines for eval, calibrate and adapt, and resumes')
    .argument('<logs...>', 'log files; one line per template (the first seen) is offered')
    .requiredOption('-o, --output <file>', 'JSON Lines file the labels are appended to (templates it has a line of are not offered again)')
    .option('--labels <list>', "comma-separated labels, keys 1-9 and 0 in order (default: the model's)")
    .option('-m, --model <model>', "classify the lines with this model (the page shows its answer) and take its labels unless --labels (default labels: the pulled default model's)")
    .addOption(new Option('--mode <mode>', "order: 'uncertain' (the model's smallest top-2 margin first, round-robin over its labels; default with --model) or 'random' (a seeded shuffle; default without)").choices(['uncertain', 'random']))
    .option('--seed <n>', "seed of the 'random' shuffle (default: 1)", Number)
    .option('--port <n>', 'port on 127.0.0.1 (default: any free one)', parsePort)
    .addHelpText('after', '\nThe page address, with its random token, is printed on stderr. Examples:\n  $ logtriage label /var/log/auth.log --labels Normal,Suspicious,Malicious -o labeled.jsonl\n  $ logtriage label app.log --model models/logs-q8_0.gguf -o labeled.jsonl   # least certain first\n  $ logtriage label app.log --labels Normal,Error --mode random --seed 7 -o labeled.jsonl')
    .action(async (files: string[], opts: LabelCliOptions) => {
      await labelCommand(files, opts);
    });

  program
    .command('pull')
    .description('Download a HuggingFace model (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE honoured) and convert it into the cache (LOGTRIAGE_CACHE_DIR)')
    .argument('[repo-id]', 'owner/name on the hub', DEFAULT_REPO_ID)
    .addOption(new Option('-t, --type <type>', `tensor type (default: ${DEFAULT_GGUF_TYPE})`).choices(CONVERT_TYPES))
    .option('-r, --revision <rev>', 'branch, tag or commit (default: main)')
    .option('--force', 'download and convert again even if cached')
    .option('--threads <n>', 'threads for quantization', positiveInt)
    .option('-q, --quiet', 'no progress or summary on stderr')
    .addHelpText('after', `\nPrints the GGUF path on stdout. Examples:\n  $ logtriage pull\n  $ logtriage pull ${DEFAULT_REPO_ID} --type q4_0\n  $ logtriage classify app.log --model ${DEFAULT_REPO_ID}:q8_0`)
    .action(async (repoId: string, opts: PullCommandOptions) => {
      await pullCommand(repoId, opts);
    });

  const bench = program
    .command('bench')
    .description("This machine's lines/s and tokens/s on a model and a log file, per batch size, with and without prefix sharing")
    .argument('<log-file>', 'log file (plain or .gz); its first --lines non-blank lines are classified')
    .addOption(modelOption())
    .option('--lines <n>', 'lines to classify', positiveInt, 256)
    .option('--batch-sizes <list>', 'comma-separated lines per decode', (v: string) => v.split(',').map(positiveInt), [1, 8, 32])
    .option('--json', 'print the runs as JSON')
    .option('--no-curve', "skip the rate curve (ms per decode by tokens per decode), which is saved for `info --plan`")
    .addOption(maxLineBytesOption());
  addModelFlags(bench, [THREADS])
    .addHelpText('after', '\nThe side-by-side benchmark against llama.cpp and node-llama-cpp is `npm run bench` (docs/benchmarks.md).\nExamples:\n  $ logtriage bench /var/log/syslog --model models/logs-f16.gguf\n  $ logtriage bench app.log.gz --lines 64 --batch-sizes 1,16 --json')
    .action(async (file: string, opts: { model?: string; lines: number; batchSizes: number[]; json?: boolean; maxLineBytes?: number; curve: boolean }) => {
      await benchCommand(file, { model: opts.model, lines: opts.lines, batchSizes: opts.batchSizes, json: opts.json === true, maxLineBytes: opts.maxLineBytes, curve: opts.curve, open: openOptionsFrom(opts, [THREADS]) });
    });

  const serverDefaults = serverOptionsSchema.parse({});
  const serve = program
    .command('serve')
    .description('Serve a model over HTTP: TEI-compatible /predict, /v1/classify, /ingest for Vector and Fluent Bit, /health, /info, /metrics')
    .addOption(modelOption())
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <n>', 'TCP port (0: any free one)', parsePort, 8080);
  addTemplateTierFlag(addReviewFlags(addModelFlags(serve, SERVE_FLAGS)))
    .option('--max-concurrent-requests <n>', `requests classified at once; more get 429 with Retry-After (default: ${serverDefaults.maxConcurrentRequests})`, positiveInt)
    .option('--max-client-batch-size <n>', `inputs per /predict or /v1/classify request; more get 422 (default: ${serverDefaults.maxClientBatchSize})`, positiveInt)
    .option('--payload-limit <bytes>', `largest body (after gzip); larger get 413 (default: ${serverDefaults.payloadLimit})`, positiveInt)
    // A negatable flag: commander sets autoTruncate true unless it is given, as the schema's default does.
    .option('--no-auto-truncate', 'answer 422 to long inputs unless the request sets truncate: true')
    .addOption(new Option('--api-key <key>', 'require Authorization: Bearer <key> on every route but /health').env('LOGTRIAGE_API_KEY'))
    .option('--message-field <path>', `record field /ingest classifies (dotted path for nested fields; default: ${serverDefaults.messageField})`)
    .option('--ecs', '/ingest adds ECS fields (event.kind, event.category, event.type, event.risk_score) instead of `logtriage`')
    .option('--model-id <name>', 'model name in /info and /v1/classify (default: the file name)')
    .option('--request-timeout <s>', `seconds a client has to send a whole request (default: ${serverDefaults.requestTimeoutMs / 1000})`, positiveInt)
    .option('--write-timeout <s>', `seconds a client has to read a whole answer; then its socket is closed (default: ${serverDefaults.writeTimeoutMs / 1000})`, positiveInt)
    .option('--max-ingest-records <n>', `records per /ingest body; more get 413 (default: ${serverDefaults.maxIngestRecords})`, positiveInt)
    // The library logs nothing by default; the command logs requests unless told otherwise.
    .addOption(new Option('--log-level <level>', 'request logs (pino JSON on stderr; bodies only with --log-bodies)').choices(LOG_LEVELS).default('info'))
    .option('--log-bodies', 'also log request bodies (they may hold sensitive data)')
    .option('--forward <url>', '/ingest forwards the enriched records here and answers after it accepted them (502/503 otherwise)')
    .addOption(new Option('--forward-format <format>', "'same' framing as received, or 'es-bulk' (_bulk create actions) (default: same)").choices(FORWARD_FORMATS))
    .option('--forward-timeout <s>', `seconds the --forward endpoint has to answer (default: ${serverDefaults.forwardTimeoutMs / 1000})`, positiveInt)
    .option('--forward-header <header>', "'Name: value' added to forwards (repeatable; visible to local users: prefer --forward-header-file for secrets)", collectHeader)
    .option('--forward-header-file <file>', "file of 'Name: value' lines added to forwards (e.g. an Authorization header kept off the command line)")
    .option('--thresholds <file>', 'alert thresholds from eval --thresholds-out: results get alert')
    .addOption(new Option('--swap-mode <mode>', "model swaps (SIGHUP, POST /admin/model): 'overlap' loads the new model beside the old one (twice the memory for a moment), 'pause' answers 503 with Retry-After while the old one drains and the new one loads (default: overlap)").choices(['overlap', 'pause']))
    .addHelpText('after', '\nExamples:\n  $ logtriage serve --model models/logs-f16.gguf --port 8080\n  $ LOGTRIAGE_API_KEY=secret logtriage serve --model models/logs-f16.gguf --host 0.0.0.0 --message-field log')
    .action(async (opts: Omit<ServeCliOptions, 'open'>) => {
      await serveCommand({ ...opts, open: openOptionsFrom(opts, SERVE_FLAGS) });
    });

  const worker = program
    .command('worker')
    .description('Classify a NATS JetStream stream: workers sharing one durable consumer publish results (exactly once) to an output stream')
    .addOption(modelOption())
    .option('--servers <urls>', 'comma-separated NATS server URLs', list, ['nats://127.0.0.1:4222'])
    .option('--stream <name>', 'input stream', 'LOGS')
    .option('--subjects <filters>', 'subjects the input stream captures when created (comma-separated)', list, ['logs.raw.>'])
    .option('--durable <name>', 'durable pull consumer, shared by workers of the same name', 'logtriage')
    .option('--out-stream <name>', 'output stream (results and dead letters)', 'LOGS_CLASSIFIED')
    .option('--out-subject <subject>', 'subject of the results', 'logs.classified')
    .option('--dead-letter-subject <subject>', 'subject of messages that cannot be classified', 'logs.dead')
    .addOption(new Option('--input <kind>', "'raw' log lines, or 'json' records (a Fluent Bit nats array: one per entry) (default: json when --message-field is given)").choices(['raw', 'json']))
    .option('--message-field <path>', 'record field to classify (dotted path for nested fields); raw lines go out under it (default: message)')
    .option('--ecs', 'results carry ECS fields (event.kind, event.category, event.type, event.risk_score) instead of `logtriage`')
    .option('--batch-size <n>', 'most messages per classifyMany() batch', positiveInt, 64)
    .option('--max-deliver <n>', 'tries per message before it is dead-lettered', positiveInt, 5)
    .option('--ack-wait <s>', 'seconds before an unacked message is redelivered (consumer ack_wait, when created)', positiveInt, 30)
    .option('--max-ack-pending <n>', 'messages out and unacked across all workers (consumer max_ack_pending, when created)', positiveInt, 1024)
    .option('--no-create', 'require the streams and the consumer to exist instead of creating them')
    .addOption(new Option('--storage <kind>', 'storage of created streams').choices(['file', 'memory']).default('file'))
    .option('--replicas <n>', 'replicas of created streams (3 on a 3-node cluster)', positiveInt, 1)
    .option('--creds <file>', 'NATS credentials file (JWT + NKey)')
    .addOption(new Option('--token <token>', 'NATS authentication token (visible to local users: prefer the env or --token-file)').env('LOGTRIAGE_NATS_TOKEN'))
    .option('--token-file <file>', 'file holding the NATS token')
    .option('--user <user>', 'NATS user (with --password)')
    .addOption(new Option('--password <password>', 'NATS password (visible to local users: prefer the env or --password-file)').env('LOGTRIAGE_NATS_PASSWORD'))
    .option('--password-file <file>', 'file holding the NATS password')
    .option('--tls-ca <file>', 'CA certificate (PEM) of the servers')
    .option('--metrics-port <n>', 'serve /metrics and /health on this port (0: any free one)', parsePort)
    .option('--metrics-host <host>', 'address of the metrics endpoint', '127.0.0.1')
    .option('--thresholds <file>', 'alert thresholds from eval --thresholds-out: results get alert (with --ecs, event.kind alert)')
    .addOption(new Option('--swap-mode <mode>', "model swaps (SIGHUP): 'overlap' loads the new model beside the old one (twice the memory for a moment), 'pause' takes nothing from the consumer while the old one drains and the new one loads (/ready 503) (default: overlap)").choices(['overlap', 'pause']))
    .option('-q, --quiet', 'no messages on stderr');
  addTemplateTierFlag(addReviewFlags(addModelFlags(worker, WORKER_MODEL_FLAGS)))
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        "  $ logtriage worker --servers nats://127.0.0.1:4222 --stream LOGS --subjects 'logs.raw.>' --model models/logs-q8_0.gguf",
        '  $ logtriage worker --message-field log --ecs --metrics-port 9464 --creds /etc/nats/worker.creds',
        '  $ logtriage worker --thresholds alerts.json --review-min-score 0.6 --ecs --model models/logs-q8_0.gguf',
      ].join('\n'),
    )
    .action(async (opts: WorkerCliOptions) => {
      await workerCommand(opts);
    });

  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  // With --json, commander's own usage messages are replaced by handleError's JSON line.
  if (json) for (const command of [program, ...program.commands]) command.configureOutput({ writeErr: () => {} });
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    return handleError(err, argv.includes('--verbose'), json);
  }
}
