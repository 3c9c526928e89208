/**
 * Pure helpers for building images, committing kernels and recreating an
 * environment from a notebook: which files are Dockerfiles, the tag the server
 * suggests, step progress, build args, the review of a notebook's recorded
 * environment, and whether a notebook names an environment missing here.
 * No DOM, no REST: the widgets in widgets/BuildDialog.tsx, BuildLog.tsx,
 * CommitDialog.tsx, ExportDialog.tsx and recreate.ts use them.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { IEnvironment } from './api';
import { IBuild, ICommit, IFromNotebook } from './buildApi';
import { METADATA_KEY } from './notebook';

/** `Dockerfile` or `*.Dockerfile`. */
export function isDockerfileName(name: string): boolean {
  const base = name.split('/').pop() ?? '';
  return base === 'Dockerfile' || base.endsWith('.Dockerfile');
}

/** A Dockerfile's path (relative to the server root) as context directory and file. */
export function buildTarget(path: string): {
  context: string;
  dockerfile: string;
} {
  const parts = path.split('/').filter(p => p);
  const dockerfile = parts.pop() ?? 'Dockerfile';
  return { context: parts.join('/'), dockerfile };
}

/** A first tag for a build context: its folder's name (or the file's stem), `:v1`. */
export function defaultTag(path: string): string {
  const { context, dockerfile } = buildTarget(path);
  const stem = dockerfile.endsWith('.Dockerfile')
    ? dockerfile.slice(0, -'.Dockerfile'.length)
    : context.split('/').pop() || 'image';
  const repo = stem.toLowerCase().replace(/[^a-z0-9._-]+/g, '-') || 'image';
  return `${repo.replace(/^[^a-z0-9]+/, '') || 'image'}:v1`;
}

/** The next version the server suggests when a tag exists ("… tag this version 'x:v2' instead …"). */
export function suggestedTag(message: string): string | null {
  const match = /tag this version '([^']+)' instead/.exec(message);
  return match ? match[1] : null;
}

/**
 * What to tell the user about an existing tag and the suggested one; only a
 * dialog that can replace the tag (a build, which then sends `overwrite`) says
 * that keeping it replaces it.
 */
export function suggestionText(
  tag: string,
  suggestion: string,
  trans: TranslationBundle,
  canReplace = false
): string {
  return canReplace
    ? trans.__(
        '“%1” exists already on this host; the next version is “%2” (keep “%1” to replace it).',
        tag,
        suggestion
      )
    : trans.__(
        '“%1” exists already on this host; the next version is “%2”.',
        tag,
        suggestion
      );
}

/** "KEY=value" lines (blank lines ignored) as build args; an Error naming a bad line. */
export function parseBuildArgs(
  text: string,
  trans: TranslationBundle
): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) {
      continue;
    }
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new Error(trans.__('Build argument “%1” is not NAME=value.', line));
    }
    out[key] = line.slice(eq + 1);
  }
  return out;
}

/** "Step 2/5", "Done", "Failed", "Starting…". */
export function stepText(build: IBuild, trans: TranslationBundle): string {
  if (build.status === 'done') {
    return trans.__('Done: %1', build.tag);
  }
  if (build.status === 'failed') {
    return trans.__('Failed');
  }
  return build.steps
    ? trans.__('Step %1/%2', build.step, build.steps)
    : trans.__('Starting…');
}

/** `docker diff` counts of a commit: "3 added, 1 changed, 0 deleted". */
export function diffText(commit: ICommit, trans: TranslationBundle): string {
  const d = commit.diff ?? {};
  return trans.__(
    '%1 added, %2 changed, %3 deleted',
    d.added ?? 0,
    d.changed ?? 0,
    d.deleted ?? 0
  );
}

/** The recorded environment of a notebook's metadata (`metadata.jupyter_gpu_kernels`). */
export interface IRecorded {
  environment: string;
  image: string;
  host?: string;
  gpus?: string;
  image_digests?: string[];
}

/**
 * The environment a notebook's metadata names when it does not exist here
 * (null when there is none recorded, or it exists).
 */
export function missingEnvironment(
  metadata: { [key: string]: unknown } | null | undefined,
  environments: readonly IEnvironment[]
): IRecorded | null {
  const recorded = metadata?.[METADATA_KEY] as
    { [key: string]: unknown } | undefined;
  if (!recorded || typeof recorded !== 'object') {
    return null;
  }
  const { environment, image } = recorded;
  if (typeof environment !== 'string' || !environment) {
    return null;
  }
  if (typeof image !== 'string' || !image) {
    return null;
  }
  if (environments.some(e => e.name === environment)) {
    return null;
  }
  return recorded as unknown as IRecorded;
}

/** The review of `POST environments/from-notebook` as a title and the items to list. */
export function reviewItems(
  result: IFromNotebook,
  trans: TranslationBundle
): { title: string; items: string[] } {
  const fields = result.environment;
  const items = [
    trans.__('Image: %1', String(fields.image ?? '')),
    trans.__('Host: %1', String(fields.host ?? 'local')),
    trans.__('GPUs: %1', String(fields.gpus ?? 'none'))
  ];
  // the server's review: the first line is the image, then mounts and non-default fields
  for (const line of result.review.slice(1)) {
    if (!/^(host|gpus) = /.test(line)) {
      items.push(line);
    }
  }
  return {
    title: trans.__('Recreate environment %1?', result.name),
    items
  };
}
