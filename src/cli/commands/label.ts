// SPDX-License-Identifier: MIT
// `logtriage label <logs…> -o labeled.jsonl [--labels A,B,C | --model M] [--port N]`: a local web
// page for labeling log lines with the keyboard. It binds 127.0.0.1 only, with a random token in
// the URL it prints (on stderr: stdout is for data), appends each label to the output as a JSON
// Lines row `{"text", "label"}` (what eval, calibrate and adapt read), and resumes: lines the output
// already labels are not offered again. Runs until Ctrl-C.
import { readModelMeta } from '../../gguf/readModelMeta.js';
import { resolveModel } from '../../hub/index.js';
import { LabelSession } from '../../label/labelSession.js';
import { startLabelServer, type LabelServer } from '../../label/labelServer.js';
import { labelOptionsSchema, parseOptions } from '../../options.js';
import { checkOutputFolder } from '../checkOutputFolder.js';

export interface LabelCliOptions {
  output: string;
  /** Comma-separated; default: the model's labels. */
  labels?: string;
  model?: string;
  port?: number;
}

/** Opens the session and the server; the caller closes it (the CLI on SIGINT/SIGTERM). */
export async function startLabeling(files: readonly string[], options: LabelCliOptions): Promise<{ server: LabelServer; session: LabelSession }> {
  const labels = options.labels !== undefined ? options.labels.split(',').map((l) => l.trim()) : (await readModelMeta(resolveModel(options.model))).labels;
  const opts = parseOptions(labelOptionsSchema, { labels, output: options.output, ...(options.port !== undefined ? { port: options.port } : {}) }, 'label options');
  await checkOutputFolder(opts.output, '--output');
  const session = await LabelSession.open({ files, labels: opts.labels, output: opts.output });
  const server = await startLabelServer(session, { port: opts.port });
  return { server, session };
}

export async function labelCommand(files: readonly string[], options: LabelCliOptions): Promise<void> {
  const { server, session } = await startLabeling(files, options);
  const { remaining, labeled } = session.state();
  process.stderr.write(`labeling ${remaining} lines (${labeled} already in ${options.output}); open ${server.url}\nCtrl-C stops; the labels are saved as you go.\n`);
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
