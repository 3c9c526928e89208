/**
 * "Save as image…" on a running kernel: a dialog (tag, message) that commits
 * the kernel's container (`POST kernels/{id}/commit`), then shows the
 * `docker diff` summary and that a Dockerfile is the durable way. A refusal
 * brings the dialog back (draftDialog's default): an existing tag with the
 * suggested next version, anything else with the server's message. While the
 * daemon commits (seconds to minutes for a big container) a "Saving…"
 * notification says so. Run by the `gpu-kernels:commit-kernel` command.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { diffText } from '../build';
import { BuildsAPI, ICommit } from '../buildApi';
import {
  DraftForm,
  DraftInput,
  DraftTagField,
  draftDialog
} from './DraftDialog';

interface ICommitDraft {
  tag: string;
  message: string;
  note?: string;
  error?: string;
}

class CommitForm extends DraftForm<ICommitDraft> {
  constructor(draft: ICommitDraft, trans: TranslationBundle) {
    super(draft, trans, 'jp-GPUKernels-commitDialog');
  }

  protected renderFields(
    d: ICommitDraft,
    set: (patch: Partial<ICommitDraft>) => void
  ): React.ReactNode {
    const trans = this.trans;
    return (
      <>
        <DraftTagField draft={d} onChange={tag => set({ tag })} trans={trans} />
        <DraftInput
          label={trans.__('Message')}
          name="message"
          value={d.message}
          onChange={message => set({ message })}
        />
      </>
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
export function commitKernelDialog(
  builds: BuildsAPI,
  kernelId: string,
  suggested: string,
  trans: TranslationBundle
): Promise<ICommit | null> {
  return draftDialog<ICommitDraft, ICommit>({
    title: trans.__('Save kernel %1 as an image', kernelId.slice(0, 8)),
    okLabel: trans.__('Save'),
    initial: { tag: suggested, message: '' },
    form: draft => new CommitForm(draft, trans),
    submit: async draft => {
      const pending = Notification.emit(
        trans.__(
          'Saving kernel %1 as %2…',
          kernelId.slice(0, 8),
          draft.tag.trim()
        ),
        'in-progress',
        { autoClose: false }
      );
      let commit: ICommit;
      try {
        commit = await builds.commitKernel(
          kernelId,
          draft.tag.trim(),
          draft.message
        );
      } finally {
        Notification.dismiss(pending);
      }
      await showDialog({
        title: trans.__('Image saved'),
        body: <CommitResult commit={commit} trans={trans} />,
        buttons: [Dialog.okButton({ label: trans.__('OK') })]
      });
      return commit;
    },
    trans
  });
}
