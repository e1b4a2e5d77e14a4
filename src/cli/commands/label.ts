// SPDX-License-Identifier: MIT
// `logtriage label <logs…> -o labeled.jsonl [--labels A,B,C | --model M] [--mode uncertain|random] [--seed N] [--port N]`: a local web
// page for labeling log lines with the keyboard. It binds 127.0.0.1 only, with a random token in
// the URL it prints (on stderr: stdout is for data), appends each label to the output as a JSON
// Lines row `{"text", "label"}` (what eval, calibrate and adapt read), and resumes: lines the output
// already labels are not offered again. Runs until Ctrl-C.
import { LogClassifier } from '../../LogClassifier.js';
import { readModelMeta } from '../../gguf/readModelMeta.js';
import { resolveModel } from '../../hub/index.js';
import { LabelSession } from '../../label/labelSession.js';
import { startLabelServer, type LabelServer } from '../../label/labelServer.js';
import { labelOptionsSchema, parseOptions } from '../../options.js';
import { ValidationError } from '../../errors.js';
import { checkOutputFolder } from '../checkOutputFolder.js';

export interface LabelCliOptions {
  output: string;
  /** Comma-separated; default: the model's labels. */
  labels?: string;
  model?: string;
  port?: number;
  /** 'uncertain' (default with --model) or 'random' (default without). */
  mode?: 'uncertain' | 'random';
  seed?: number;
  /** llama.cpp threads for the model. */
  threads?: number;
}

/** Opens the session and the server; the caller closes it (the CLI on SIGINT/SIGTERM). */
export async function startLabeling(files: readonly string[], options: LabelCliOptions): Promise<{ server: LabelServer; session: LabelSession }> {
  const labels = options.labels !== undefined ? options.labels.split(',').map((l) => l.trim()) : (await readModelMeta(resolveModel(options.model))).labels;
  const opts = parseOptions(
    labelOptionsSchema,
    {
      labels,
      output: options.output,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.mode !== undefined ? { mode: options.mode } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    },
    'label options',
  );
  await checkOutputFolder(opts.output, '--output');
  if (opts.mode === 'uncertain' && options.model === undefined) throw new ValidationError("--mode uncertain needs --model (the model's least certain lines come first)");
  // The model classifies the lines once, to order them and show its answer; it is closed before serving.
  const clf = options.model !== undefined ? await LogClassifier.open(resolveModel(options.model), options.threads !== undefined ? { threads: options.threads } : {}) : undefined;
  let session: LabelSession;
  try {
    session = await LabelSession.open({ files, labels: opts.labels, output: opts.output, mode: opts.mode, seed: opts.seed, ...(clf ? { classify: (texts: string[]) => clf.classifyMany(texts) } : {}) });
  } finally {
    await clf?.dispose();
  }
  const server = await startLabelServer(session, { port: opts.port });
  return { server, session };
}

export async function labelCommand(files: readonly string[], options: LabelCliOptions): Promise<void> {
  const { server, session } = await startLabeling(files, options);
  const { remaining, labeled, mode } = session.state();
  process.stderr.write(`labeling ${remaining} lines (one per template, ${mode} order) (${labeled} already in ${options.output}); open ${server.url}\nCtrl-C stops; the labels are saved as you go.\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  process.stderr.write(`${session.state().labeled} lines labeled in ${options.output}\n`);
}
