/**
 * "Build image…": a dialog (host, tag, Dockerfile, build args) that starts a
 * build (`POST hosts/{host}/images/build`) and opens its log panel
 * (widgets/BuildLog.tsx). When the tag exists, the dialog comes back with the
 * server's suggested next version; any other refusal comes back with the
 * server's message. Run by the `gpu-kernels:build-image` command.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { buildTarget, parseBuildArgs } from '../build';
import { BuildsAPI, IBuild } from '../buildApi';
import {
  DraftForm,
  DraftInput,
  DraftTagField,
  draftDialog,
  refusedTag
} from './DraftDialog';

/** What the dialog edits. */
export interface IBuildDraft {
  host: string;
  hosts: string[];
  /** The Dockerfile, relative to the server root. */
  file: string;
  tag: string;
  buildArgs: string;
  /** The tag the server said exists (keeping it replaces that image). */
  existing?: string;
  note?: string;
  error?: string;
}

class BuildForm extends DraftForm<IBuildDraft> {
  constructor(draft: IBuildDraft, trans: TranslationBundle) {
    super(draft, trans, 'jp-GPUKernels-buildDialog');
  }

  protected renderFields(
    d: IBuildDraft,
    set: (patch: Partial<IBuildDraft>) => void
  ): React.ReactNode {
    const trans = this.trans;
    return (
      <>
        <label className="jp-GPUKernels-field">
          {trans.__('Host')}
          <select
            className="jp-mod-styled"
            name="host"
            value={d.host}
            onChange={e => set({ host: e.target.value })}
          >
            {d.hosts.map(h => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </select>
        </label>
        <DraftTagField draft={d} onChange={tag => set({ tag })} trans={trans} />
        <DraftInput
          label={trans.__('Dockerfile (relative to the server root)')}
          name="file"
          value={d.file}
          onChange={file => set({ file })}
        />
        <DraftInput
          label={trans.__('Build arguments (NAME=value, one per line)')}
          name="buildArgs"
          rows={3}
          value={d.buildArgs}
          onChange={buildArgs => set({ buildArgs })}
        />
      </>
    );
  }
}

/** Show the dialog until a build starts (its status) or the user cancels (null). */
export function startBuildDialog(
  builds: BuildsAPI,
  initial: IBuildDraft,
  trans: TranslationBundle
): Promise<IBuild | null> {
  return draftDialog({
    title: trans.__('Build image'),
    okLabel: trans.__('Build'),
    initial,
    form: draft => new BuildForm(draft, trans),
    submit: draft => {
      const { context, dockerfile } = buildTarget(draft.file.trim());
      const tag = draft.tag.trim();
      return builds.startBuild(draft.host, {
        path: context || '.',
        dockerfile,
        tag,
        build_args: parseBuildArgs(draft.buildArgs, trans),
        overwrite: !!draft.existing && draft.existing === tag
      });
    },
    refused: (draft, message) => {
      const refused = refusedTag(draft, message, trans, true);
      return refused.existing === undefined
        ? refused.draft
        : { ...refused.draft, existing: refused.existing };
    },
    trans
  });
}
