/**
 * "Save as image…" on a running kernel: a dialog (tag, message) that commits
 * the kernel's container (`POST kernels/{id}/commit`), then shows the
 * `docker diff` summary and that a Dockerfile is the durable way. A refusal
 * (an existing tag: with the suggested next version) brings the dialog back
 * with the server's message. Run by the `gpu-kernels:commit-kernel` command.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage } from '../api';
import { diffText, suggestedTag, suggestionText } from '../build';
import { BuildsAPI, ICommit } from '../buildApi';

interface ICommitDraft {
  tag: string;
  message: string;
  note?: string;
  error?: string;
}

class CommitForm
  extends ReactWidget
  implements Dialog.IBodyWidget<ICommitDraft>
{
  constructor(
    private _draft: ICommitDraft,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-GPUKernels-commitDialog');
  }

  getValue(): ICommitDraft {
    return { ...this._draft };
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    const d = this._draft;
    const set = (patch: Partial<ICommitDraft>) => {
      this._draft = { ...this._draft, ...patch };
      this.update();
    };
    return (
      <div className="jp-GPUKernels-form">
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
          {trans.__('Message')}
          <input
            className="jp-mod-styled"
            name="message"
            value={d.message}
            onChange={e => set({ message: e.target.value })}
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

function CommitResult(props: {
  commit: ICommit;
  trans: TranslationBundle;
}): JSX.Element {
  const { commit, trans } = props;
  return (
    <div className="jp-GPUKernels-commitResult">
      <p>
        {trans.__(
          'Saved %1 (%2) on %3.',
          commit.tag,
          commit.image_id.slice(7, 19),
          commit.host
        )}
      </p>
      <p>{trans.__('Changes: %1', diffText(commit, trans))}</p>
      {!!commit.diff.first?.length && (
        <pre className="jp-GPUKernels-logText">
          {commit.diff.first.join('\n')}
        </pre>
      )}
      <p className="jp-GPUKernels-dim">{commit.hint}</p>
    </div>
  );
}

/** Ask for a tag and message, commit, show the result; null when cancelled. */
export async function commitKernelDialog(
  builds: BuildsAPI,
  kernelId: string,
  suggested: string,
  trans: TranslationBundle
): Promise<ICommit | null> {
  let draft: ICommitDraft = { tag: suggested, message: '' };
  for (;;) {
    const result = await showDialog({
      title: trans.__('Save kernel %1 as an image', kernelId.slice(0, 8)),
      body: new CommitForm(draft, trans),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Save') })
      ],
      focusNodeSelector: 'input[name="tag"]'
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    draft = { ...result.value, note: undefined, error: undefined };
    try {
      const commit = await builds.commitKernel(
        kernelId,
        draft.tag.trim(),
        draft.message
      );
      await showDialog({
        title: trans.__('Image saved'),
        body: <CommitResult commit={commit} trans={trans} />,
        buttons: [Dialog.okButton({ label: trans.__('OK') })]
      });
      return commit;
    } catch (reason) {
      const message = errorMessage(reason, trans);
      const next = suggestedTag(message);
      draft = next
        ? { ...draft, tag: next, note: suggestionText(draft.tag, next, trans) }
        : { ...draft, error: message };
    }
  }
}
