/**
 * Unit test of widgets/CopyImageDialog.tsx's pure helpers: which hosts an
 * image can be copied to, and the Notification text of a finished copy.
 */
import { nullTranslator } from '@jupyterlab/translation';

import { IDockerHost } from '../src/api';
import { ICopy } from '../src/copyApi';
import { copyOutcome, copyTargets } from '../src/widgets/CopyImageDialog';

const trans = nullTranslator.load('jupyter_gpu_kernels');

describe('copyTargets', () => {
  it('offers the other hosts, unreachable ones last', () => {
    const hosts: IDockerHost[] = [
      { name: 'local', local: true, reachable: true },
      { name: 'down', reachable: false },
      { name: 'gpubox', reachable: true },
      { name: 'new' }
    ];
    expect(copyTargets(hosts, 'local')).toEqual(['gpubox', 'new', 'down']);
    expect(copyTargets(hosts, 'gpubox')).toEqual(['local', 'new', 'down']);
    expect(copyTargets([{ name: 'local' }], 'local')).toEqual([]);
  });
});

describe('copyOutcome', () => {
  const copy: ICopy = {
    id: 'c1',
    host: 'local',
    to: 'gpubox',
    image: 'ml:1',
    status: 'done',
    message: '',
    log: [],
    error: null,
    bytes_done: 10,
    bytes_total: 10
  };
  it('says what was copied where, or why it failed', () => {
    expect(copyOutcome(copy, trans)).toBe('Copied ml:1 from local to gpubox');
    expect(
      copyOutcome({ ...copy, status: 'failed', error: 'disk full' }, trans)
    ).toBe('Copying ml:1 to gpubox failed: disk full');
  });
});
