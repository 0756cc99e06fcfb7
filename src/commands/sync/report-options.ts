/**
 * --report-url, --report-header, --report-timeout and --metrics-file: what a sync command does when its run ends
 * (sync/report.ts makes and sends the report and writes the metrics).
 */
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { redact } from '../../api/redact.ts';
import { isLoopbackHost } from '../../config/connection.ts';
import { deliverReport, runReport, writeMetricsFile, type RunEnding } from '../../sync/report.ts';
import { UsageError } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';
import { VERSION } from '../factory.ts';

export const REPORT_TIMEOUT_DEFAULT = 10;

export function reportOptions<T>(y: Argv<T>) {
  return y
    .option('report-url', {
      type: 'string',
      describe: 'POST a JSON report of the run to this webhook when it ends (never fails the sync)',
    })
    .option('report-header', {
      type: 'string',
      array: true,
      describe: "A header for --report-url, its value by reference: 'Authorization=env:VAR' or 'Name=file:PATH'",
    })
    .option('report-timeout', {
      type: 'number',
      describe: `Seconds to wait for the webhook, per attempt (default ${REPORT_TIMEOUT_DEFAULT})`,
    })
    .option('metrics-file', {
      type: 'string',
      describe: "Write the run's metrics to this file (Prometheus text format, node_exporter textfile collector)",
    });
}

export interface ReportFlags {
  reportUrl?: string;
  reportHeader?: string | string[];
  reportTimeout?: number;
  metricsFile?: string;
}

/** The value of a `Name=env:VAR` or `Name=file:PATH` header; a literal value is refused (it would show in ps). */
function headerValue(raw: string, env: Record<string, string | undefined>): [string, string] {
  const i = raw.indexOf('=');
  const name = i > 0 ? raw.slice(0, i).trim() : '';
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name))
    throw new UsageError(`--report-header must look like 'Name=env:VAR' or 'Name=file:PATH'`);
  const ref = raw.slice(i + 1).trim();
  if (ref.startsWith('env:')) {
    const variable = ref.slice(4);
    const value = env[variable];
    if (!value) throw new UsageError(`--report-header ${name}: $${variable} is not set`);
    return [name, value];
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    let value: string;
    try {
      value = readFileSync(path, 'utf8').split(/\r?\n/)[0]!.trim();
    } catch (e) {
      throw new UsageError(
        `--report-header ${name}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    if (!value) throw new UsageError(`--report-header ${name}: ${path} is empty`);
    return [name, value];
  }
  throw new UsageError(
    `--report-header ${name}: a header value is never taken on the command line ` +
      `(it would show in ps and the shell history); give it by reference: ` +
      `'${name}=env:VAR' or '${name}=file:PATH'`,
  );
}

/** The webhook's URL, checked: https, or plain http to this machine only (its headers may carry a token). */
function reportUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError('--report-url is not a valid URL (expected e.g. https://hooks.example.com/scimctl)');
  }
  if (url.username || url.password)
    throw new UsageError('--report-url: put credentials in --report-header, not in the URL');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname)))
    throw new UsageError('--report-url must start with https:// (or http:// for a receiver on this machine)');
  return url.toString();
}

/**
 * What the run's end sets off, from the flags (checked now, before the run starts): the report and the metrics file.
 * Undefined when neither was asked for. A failure of either is logged (warn), never thrown.
 */
export function runEndHandler(
  f: Factory,
  flags: ReportFlags,
  warn: (message: string) => void,
): ((ending: RunEnding, what?: { metrics: boolean }) => Promise<void>) | undefined {
  const url = flags.reportUrl ? reportUrl(flags.reportUrl) : undefined;
  const raw = flags.reportHeader === undefined ? [] : [flags.reportHeader].flat();
  if (raw.length > 0 && !url) throw new UsageError('--report-header needs --report-url');
  const headers = Object.fromEntries(raw.map((h) => headerValue(h, f.env)));
  const timeoutMs = (flags.reportTimeout ?? REPORT_TIMEOUT_DEFAULT) * 1000;
  const { metricsFile } = flags;
  if (!url && !metricsFile) return undefined;
  const secrets = [...Object.values(headers), ...(url ? [url] : [])];
  return async (ending, { metrics } = { metrics: true }) => {
    if (metricsFile && metrics) {
      try {
        writeMetricsFile(metricsFile, ending);
      } catch (e) {
        warn(redact(`could not write the metrics file ${metricsFile}: ${(e as Error).message}`, secrets));
      }
    }
    if (url) {
      const problem = await deliverReport(url, runReport(ending), {
        headers,
        timeoutMs,
        userAgent: `scimctl/${VERSION}`,
      });
      if (problem) warn(problem);
    }
  };
}
