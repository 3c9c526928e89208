import { nullTranslator } from '@jupyterlab/translation';

import { ITagDraft, refusedTag } from '../src/widgets/DraftDialog';

const trans = nullTranslator.load('jupyter_gpu_kernels');

describe('refusedTag (Build image… and Save as image… dialogs)', () => {
  it('takes the suggested next tag, with a note and the refused tag', () => {
    const refused = refusedTag<ITagDraft & { message: string }>(
      { tag: ' proj:v1 ', message: 'm' },
      "image proj:v1 exists on host 'local'; tag this version 'proj:v2' instead",
      trans
    );
    expect(refused.existing).toBe('proj:v1');
    expect(refused.draft.tag).toBe('proj:v2');
    expect(refused.draft.note).toContain('“proj:v1” exists already');
    expect(refused.draft.error).toBeUndefined();
    expect(refused.draft.message).toBe('m');
  });

  it("shows any other refusal as the server's message", () => {
    const refused = refusedTag<ITagDraft>(
      { tag: 'Bad Tag!' },
      'invalid tag "Bad Tag!"',
      trans
    );
    expect(refused).toEqual({
      draft: { tag: 'Bad Tag!', error: 'invalid tag "Bad Tag!"' }
    });
  });
});
