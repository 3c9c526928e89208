/**
 * Unit test of notify.ts: a message a toast would cut gets a "Details" action
 * that shows it whole; a short one gets none.
 */
import { nullTranslator } from '@jupyterlab/translation';

import { detailsActions, TOAST_TEXT_LIMIT } from '../src/notify';

const trans = nullTranslator.load('jupyter_gpu_kernels');

describe('detailsActions', () => {
  it('adds no action to a message a toast shows whole', () => {
    expect(detailsActions('t', 'x'.repeat(TOAST_TEXT_LIMIT), trans)).toEqual(
      []
    );
  });

  it('offers Details for a message a toast would cut', () => {
    const long =
      'Copying img to gpubox failed: ' +
      "Docker host 'gpubox' (ssh://gpu@box) is not reachable over SSH: Connection refused. " +
      'Check that `ssh gpu@box` works without a password prompt (key or agent).';
    expect(long.length).toBeGreaterThan(TOAST_TEXT_LIMIT);
    const actions = detailsActions('Copy image', long, trans);
    expect(actions.map(a => a.label)).toEqual(['Details']);
  });
});
