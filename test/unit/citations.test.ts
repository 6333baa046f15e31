import { callNumber, citationAnnotator, citationMarker, searchOutputText } from '../../src/tools/citations';
import {
  mergeHits,
  queriesOf,
  resultsWithin,
  searchCall,
  searchSettings,
  withoutResultContent,
} from '../../src/tools/fileSearchResults';
import { messagePartsFor } from '../../src/tools';
import { fileSearchAttachments } from '../../src/services/fileSearchResources';

describe('file_search citations', () => {
  const annotate = citationAnnotator([
    { number: 0, fileIds: ['file-a', 'file-b'] },
    { number: 3, fileIds: ['file-c'] },
  ]);

  it('turns each marker of a real result into a file_citation over exactly the marker', () => {
    const text = 'Paris is the capital【0:1†source】 and it rains【3:0†notes.txt】.';
    const annotations = annotate(text);
    expect(annotations).toEqual([
      {
        type: 'file_citation',
        text: '【0:1†source】',
        file_citation: { file_id: 'file-b' },
        start_index: 20,
        end_index: 32,
      },
      {
        type: 'file_citation',
        text: '【3:0†notes.txt】',
        file_citation: { file_id: 'file-c' },
        start_index: 45,
        end_index: 60,
      },
    ]);
    for (const a of annotations) expect(text.slice(a.start_index, a.end_index)).toBe(a.text);
  });

  it('counts indices in UTF-16 code units, as JS strings and the SDKs do', () => {
    const text = '😀 é【0:0†source】';
    const [a] = annotate(text);
    expect(a?.start_index).toBe(4); // the emoji is two code units
    expect(text.slice(a!.start_index, a!.end_index)).toBe('【0:0†source】');
  });

  it('leaves invented or garbled markers as plain text', () => {
    expect(annotate('made up【9:0†source】, out of range【0:2†source】, other call【3:1†source】')).toEqual([]);
    expect(annotate('no colon【0†source】, no dagger【0:0 source】, open【0:0†source')).toEqual([]);
  });

  it('reaches the message through the tool seam, from recorded file_search results', () => {
    const { annotate: fromSeam } = messagePartsFor([
      { call: { id: 'c', type: 'file_search', file_search: {} }, extras: { number: 2, fileIds: ['file-z'] } },
    ]);
    expect(fromSeam('see【2:0†source】')).toMatchObject([{ file_citation: { file_id: 'file-z' }, start_index: 3 }]);
  });

  it('numbers calls across the run: earlier steps first, then the position in the step', () => {
    const steps = [
      { id: 'step_001', callCount: 2 },
      { id: 'step_002', callCount: 1 },
      { id: 'step_003', callCount: 3 },
    ];
    expect(callNumber(steps, 'step_001', 0)).toBe(0);
    expect(callNumber(steps, 'step_001', 1)).toBe(1);
    expect(callNumber(steps, 'step_002', 0)).toBe(2);
    expect(callNumber(steps, 'step_003', 2)).toBe(5);
  });

  it('prints each result under the marker the model must copy', () => {
    const text = searchOutputText(
      4,
      ['capital'],
      [
        { fileName: 'a.txt', score: 0.9, text: 'Paris.' },
        { fileName: 'b.txt', score: 0.5, text: 'Lyon.' },
      ],
    );
    expect(text).toContain(`${citationMarker(4, 0)} file: a.txt (score 0.900)\nParis.`);
    expect(text).toContain(`${citationMarker(4, 1)} file: b.txt (score 0.500)\nLyon.`);
    expect(searchOutputText(4, ['x'], [])).toBe('No results found for "x".');
    expect(searchOutputText(4, [], [], 'nothing to search')).toBe('nothing to search');
  });
});

describe('file_search attachments', () => {
  it('takes the files attached for file_search, in order, once each', () => {
    expect(
      fileSearchAttachments([
        {
          role: 'user',
          content: 'a',
          attachments: [
            { file_id: 'file-1', tools: [{ type: 'file_search' }] },
            { file_id: 'file-2', tools: [{ type: 'code_interpreter' }] },
          ],
        },
        { role: 'user', content: 'b', attachments: null },
        {
          role: 'user',
          content: 'c',
          attachments: [
            { file_id: 'file-3', tools: [{ type: 'code_interpreter' }, { type: 'file_search' }] },
            { file_id: 'file-1', tools: [{ type: 'file_search' }] },
          ],
        },
      ]),
    ).toEqual(['file-1', 'file-3']);
    expect(fileSearchAttachments(undefined)).toEqual([]);
  });
});

describe('file_search results', () => {
  const hit = (chunkId: string, score: number, fileId = 'file-1') => ({
    chunkId,
    fileId,
    filename: `${fileId}.txt`,
    text: chunkId,
    score,
  });

  it('merges queries: one entry per chunk at its best score, best first, at most max', () => {
    const merged = mergeHits(
      [
        [hit('a', 0.2), hit('b', 0.9)],
        [hit('a', 0.7), hit('c', 0.1)],
      ],
      2,
    );
    expect(merged.map((h) => [h.chunkId, h.score])).toEqual([
      ['b', 0.9],
      ['a', 0.7],
    ]);
    // ties in a fixed order, whatever order the queries came back in
    expect(mergeHits([[hit('y', 0.5)], [hit('x', 0.5)]], 5).map((h) => h.chunkId)).toEqual(['x', 'y']);
  });

  it('gives the model as many results as fit its budget, at least the best one', () => {
    expect(resultsWithin([10, 10, 10], 100)).toBe(3);
    expect(resultsWithin([10, 10, 10], 25)).toBe(2);
    expect(resultsWithin([10, 10, 10], 20)).toBe(2);
    expect(resultsWithin([500, 10], 100)).toBe(1);
    expect(resultsWithin([], 100)).toBe(0);
  });

  it('reads queries from the shapes models send', () => {
    expect(queriesOf('{"queries":["a","b","a"]}')).toEqual(['a', 'b']);
    expect(queriesOf('{"query":"solo"}')).toEqual(['solo']);
    expect(queriesOf('bare words')).toEqual(['bare words']);
    expect(queriesOf('{"queries":[1," "]}')).toEqual([]);
    expect(queriesOf(JSON.stringify({ queries: Array.from({ length: 30 }, (_, i) => `q${i}`) }))).toHaveLength(10);
  });

  it('applies the declared settings with OpenAI defaults', () => {
    expect(searchSettings(undefined)).toEqual({ maxNumResults: 20, ranker: 'auto', scoreThreshold: 0 });
    expect(searchSettings(undefined, 'gpt-4o').maxNumResults).toBe(20);
    expect(searchSettings(undefined, 'gpt-3.5-turbo-0125').maxNumResults).toBe(5);
    expect(searchSettings({ file_search: { max_num_results: 9 } }, 'gpt-3.5-turbo').maxNumResults).toBe(9);
    expect(
      searchSettings({
        file_search: { max_num_results: 3, ranking_options: { ranker: 'default_2024_08_21', score_threshold: 0.4 } },
      }),
    ).toEqual({ maxNumResults: 3, ranker: 'default_2024_08_21', scoreThreshold: 0.4 });
  });

  it('shows results with content in the step, and strips it without include[]', () => {
    const call = searchCall('call_1', searchSettings(undefined), [hit('a', 0.5)]);
    expect(call.file_search.results).toEqual([
      { file_id: 'file-1', file_name: 'file-1.txt', score: 0.5, content: [{ type: 'text', text: 'a' }] },
    ]);
    const details = { type: 'tool_calls', tool_calls: [call, { id: 'f', type: 'function', function: {} }] };
    const stripped = withoutResultContent(details);
    expect(stripped.tool_calls[0]).toEqual({
      id: 'call_1',
      type: 'file_search',
      file_search: {
        ranking_options: { ranker: 'auto', score_threshold: 0 },
        results: [{ file_id: 'file-1', file_name: 'file-1.txt', score: 0.5 }],
      },
    });
    expect(stripped.tool_calls[1]).toBe(details.tool_calls[1]);
    expect(details.tool_calls[0]).toBe(call); // the input is not changed
    const message = { type: 'message_creation', message_creation: { message_id: 'm' } };
    expect(withoutResultContent(message)).toBe(message);
  });
});
