/**
 * The Orphaned containers section: kernel containers whose owner (a Jupyter
 * server or client process) is gone, with the holder that is gone, how long
 * ago, and when they are reaped; a row's "Remove" removes that one
 * (`POST orphans {"kernel_ids": [id]}`), "Remove all" every one (`{"all": true}`).
 * A view of `model.status.orphans`; the sidebar shows it only when there are any.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { errorMessage, IOrphan } from '../api';
import { basename, describeHeldGpus, shortImage } from '../format';
import { GPUKernelsModel } from '../model';

function OrphanItem(props: {
  orphan: IOrphan;
  trans: TranslationBundle;
  /** Some removal runs; `removing`: this row's own. */
  busy: boolean;
  removing: boolean;
  onRemove: () => void;
}): JSX.Element {
  const { orphan: o, trans, busy, removing, onRemove } = props;
  return (
    <li className="jp-GPUKernels-orphan" data-kernel-id={o.kernel_id}>
      <div className="jp-GPUKernels-kernelHeader">
        <span className="jp-GPUKernels-kernelName">
          {basename(o.notebook) || o.environment || o.kernel_id.slice(0, 8)}
        </span>
        <button
          className="jp-GPUKernels-link jp-GPUKernels-removeOrphan"
          disabled={busy}
          title={trans.__(
            'Remove this container now, freeing its GPUs (its kernel is lost)'
          )}
          onClick={onRemove}
        >
          {removing ? trans.__('Removing…') : trans.__('Remove')}
        </button>
      </div>
      <div className="jp-GPUKernels-dim">
        {[o.host, shortImage(o.image), describeHeldGpus(o.gpus, trans)]
          .filter(Boolean)
          .join(' · ')}
      </div>
      <div className="jp-GPUKernels-dim">
        {o.disowned
          ? trans.__(
              'shut down %1 s ago by this server (%2), which could not remove its container then; due for removal',
              Math.round(o.gone_for),
              o.holder || o.server
            )
          : trans.__(
              'owner %1 (%2) gone for %3 s; %4',
              o.holder || o.server,
              o.owner || '?',
              Math.round(o.gone_for),
              o.due
                ? trans.__('due for removal')
                : trans.__('removed after %1 s', o.orphan_timeout)
            )}
      </div>
    </li>
  );
}

export function OrphansView(props: {
  model: GPUKernelsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const { value: orphans, error } = model.status.orphans;
  // what is being removed: 'all', or the kernel id of one row
  const [busy, setBusy] = React.useState<string | null>(null);
  const [removeError, setRemoveError] = React.useState<string | null>(null);
  const remove = async (kernelId?: string) => {
    setBusy(kernelId ?? 'all');
    setRemoveError(null);
    try {
      await model.status.removeOrphans(kernelId ? [kernelId] : undefined);
    } catch (reason) {
      setRemoveError(errorMessage(reason, trans));
      await model.status.refreshOrphans(); // e.g. removed meanwhile: show what is left
    }
    setBusy(null);
  };
  return (
    <div className="jp-GPUKernels-orphansView">
      {error && (
        <div className="jp-GPUKernels-error" role="alert">
          {error}
        </div>
      )}
      <ul className="jp-GPUKernels-kernels">
        {(orphans ?? []).map(o => (
          <OrphanItem
            key={o.kernel_id}
            orphan={o}
            trans={trans}
            busy={busy !== null}
            removing={busy === o.kernel_id || busy === 'all'}
            onRemove={() => void remove(o.kernel_id)}
          />
        ))}
      </ul>
      {(orphans ?? []).length > 0 && (
        <button
          className="jp-mod-styled jp-mod-warn jp-GPUKernels-removeOrphans"
          disabled={busy !== null}
          title={trans.__(
            'Remove all these containers now, freeing their GPUs (their kernels are lost)'
          )}
          onClick={() => void remove()}
        >
          {busy === 'all' ? trans.__('Removing…') : trans.__('Remove all')}
        </button>
      )}
      {removeError && (
        <div className="jp-GPUKernels-error" role="alert">
          {removeError}
        </div>
      )}
    </div>
  );
}
