/**
 * "Build image…": a dialog (host, tag, Dockerfile, build args) that starts a
 * build (`POST hosts/{host}/images/build`) and opens its log panel
 * (widgets/BuildLog.tsx). When the tag exists, the dialog comes back with the
 * server's suggested next version; any other refusal comes back with the
 * server's message. Run by the `gpu-kernels:build-image` command.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage } from '../api';
import {
  buildTarget,
  parseBuildArgs,
  suggestedTag,
  suggestionText
} from '../build';
import { BuildsAPI, IBuild } from '../buildApi';

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

class BuildForm extends ReactWidget implements Dialog.IBodyWidget<IBuildDraft> {
  constructor(
    private _draft: IBuildDraft,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-GPUKernels-buildDialog');
  }

  getValue(): IBuildDraft {
    return { ...this._draft };
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    const d = this._draft;
    const set = (patch: Partial<IBuildDraft>) => {
      this._draft = { ...this._draft, ...patch };
      this.update();
    };
    return (
      <div className="jp-GPUKernels-form">
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
        <label className="jp-GPUKernels-field">
          {trans.__('Tag (NAME:TAG)')}
          <input
            className="jp-mod-styled"
            name="tag"
            value={d.tag}
            onChange={e => set({ tag: e.target.value })}
          />
        </label>
        {d.note && <div className="jp-GPUKernels-message">{d.note}</div>}
        <label className="jp-GPUKernels-field">
          {trans.__('Dockerfile (relative to the server root)')}
          <input
            className="jp-mod-styled"
            name="file"
            value={d.file}
            onChange={e => set({ file: e.target.value })}
          />
        </label>
        <label className="jp-GPUKernels-field">
          {trans.__('Build arguments (NAME=value, one per line)')}
          <textarea
            className="jp-mod-styled"
            name="buildArgs"
            rows={3}
            value={d.buildArgs}
            onChange={e => set({ buildArgs: e.target.value })}
          />
        </label>
        {d.error && (
          <div className="jp-GPUKernels-error" role="alert">
            {d.error}
          </div>
        )}
      </div>
    );
  }
}

/** Show the dialog until a build starts (its status) or the user cancels (null). */
export async function startBuildDialog(
  builds: BuildsAPI,
  initial: IBuildDraft,
  trans: TranslationBundle
): Promise<IBuild | null> {
  let draft = initial;
  for (;;) {
    const result = await showDialog({
      title: trans.__('Build image'),
      body: new BuildForm(draft, trans),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Build') })
      ],
      focusNodeSelector: 'input[name="tag"]'
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    draft = { ...result.value, note: undefined, error: undefined };
    const { context, dockerfile } = buildTarget(draft.file.trim());
    const tag = draft.tag.trim();
    try {
      return await builds.startBuild(draft.host, {
        path: context || '.',
        dockerfile,
        tag,
        build_args: parseBuildArgs(draft.buildArgs, trans),
        overwrite: !!draft.existing && draft.existing === tag
      });
    } catch (reason) {
      const message = errorMessage(reason, trans);
      const next = suggestedTag(message);
      if (next) {
        draft = {
          ...draft,
          existing: tag,
          tag: next,
          note: suggestionText(tag, next, trans)
        };
      } else {
        draft = { ...draft, error: message };
      }
    }
  }
}
