import * as React from 'react';
import { createRoot } from 'react-dom/client';

import { GPUKernelsAPI, IOrphan, orphanRemoval } from '../src/api';
import { OrphansView } from '../src/components/Orphans';
import { GPUKernelsModel } from '../src/model';
import { loadTrans } from '../src/translation';

const act: (work: () => Promise<void>) => Promise<void> = (React as any).act;
(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

function orphan(kernelId: string, notebook: string): IOrphan {
  return {
    kernel_id: kernelId,
    host: 'fakegpu',
    image: 'img:1',
    environment: '',
    notebook,
    gpus: '',
    owner: 'me',
    server: 'box:1',
    container: `c-${kernelId}`,
    holder: 'box:1',
    gone_for: 5,
    orphan_timeout: 60,
    due: false,
    removed: false
  };
}

/** A server with orphans: `removeOrphans` removes what it is asked to (all, or the ids). */
function fakeApi(
  rows: IOrphan[],
  fail: string | null = null
): { api: GPUKernelsAPI; calls: (string[] | undefined)[] } {
  let left = [...rows];
  const calls: (string[] | undefined)[] = [];
  const api = {
    orphans: async () => [...left],
    removeOrphans: async (ids?: string[]) => {
      calls.push(ids);
      if (fail) {
        left = left.filter(o => !(ids ?? []).includes(o.kernel_id));
        throw new Error(fail);
      }
      left = ids ? left.filter(o => !ids.includes(o.kernel_id)) : [];
      return left;
    }
  };
  return { api: api as unknown as GPUKernelsAPI, calls };
}

async function render(api: GPUKernelsAPI) {
  const model = new GPUKernelsModel({ api });
  await model.status.refreshOrphans();
  const node = document.createElement('div');
  document.body.appendChild(node);
  const root = createRoot(node);
  const draw = () =>
    root.render(<OrphansView model={model} trans={loadTrans()} />);
  model.orphansChanged.connect(draw);
  await act(async () => draw());
  const ids = () =>
    [...node.querySelectorAll('li.jp-GPUKernels-orphan')].map(li =>
      li.getAttribute('data-kernel-id')
    );
  const rowButton = (id: string) =>
    node.querySelector<HTMLButtonElement>(
      `li[data-kernel-id="${id}"] .jp-GPUKernels-removeOrphan`
    )!;
  return { node, root, ids, rowButton };
}

describe('orphanRemoval', () => {
  it('asks for the given ids only, else for all', () => {
    expect(orphanRemoval(['a', 'b'])).toEqual({ kernel_ids: ['a', 'b'] });
    expect(orphanRemoval()).toEqual({ all: true });
    expect(orphanRemoval([])).toEqual({ all: true });
  });
});

describe('OrphansView', () => {
  it("a row's Remove removes that orphan only; Remove all the rest", async () => {
    const { api, calls } = fakeApi([
      orphan('k1', 'a.ipynb'),
      orphan('k2', 'b.ipynb'),
      orphan('k3', 'c.ipynb')
    ]);
    const { node, root, ids, rowButton } = await render(api);
    expect(ids()).toEqual(['k1', 'k2', 'k3']);
    expect(rowButton('k2').textContent).toBe('Remove');

    await act(async () => rowButton('k2').click());
    expect(calls).toEqual([['k2']]);
    expect(ids()).toEqual(['k1', 'k3']);

    const all = node.querySelector<HTMLButtonElement>(
      '.jp-GPUKernels-removeOrphans'
    )!;
    expect(all.textContent).toBe('Remove all');
    await act(async () => all.click());
    expect(calls).toEqual([['k2'], undefined]);
    expect(ids()).toEqual([]);
    expect(node.querySelector('.jp-GPUKernels-removeOrphans')).toBeNull();
    await act(async () => root.unmount());
  });

  it('shows the server refusal and what is left', async () => {
    const { api } = fakeApi(
      [orphan('k1', 'a.ipynb'), orphan('k2', 'b.ipynb')],
      'not an orphaned kernel: k1'
    );
    const { node, root, ids, rowButton } = await render(api);
    await act(async () => rowButton('k1').click());
    expect(node.querySelector('[role="alert"]')?.textContent).toContain(
      'not an orphaned kernel: k1'
    );
    expect(ids()).toEqual(['k2']); // refreshed after the failure
    expect(rowButton('k2').disabled).toBe(false);
    await act(async () => root.unmount());
  });

  it('says a disowned container was shut down by this server, not that its owner is gone', async () => {
    const { api } = fakeApi([
      { ...orphan('k1', 'a.ipynb'), disowned: true, due: true, gone_for: 12 },
      orphan('k2', 'b.ipynb')
    ]);
    const { node, root } = await render(api);
    const text = (id: string) =>
      node.querySelector(`li[data-kernel-id="${id}"]`)?.textContent ?? '';
    expect(text('k1')).toContain(
      'shut down 12 s ago by this server (box:1), which could not remove its container then'
    );
    expect(text('k1')).not.toContain('gone for');
    expect(text('k2')).toContain(
      'owner box:1 (me) gone for 5 s; removed after 60 s'
    );
    await act(async () => root.unmount());
  });
});
