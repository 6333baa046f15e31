import { partialStringField, stringField } from '../../src/tools/partialJson';
import { combineAnnotators, kindOf, messagePartsFor, toolbox, type DeclaredTool, type ToolType } from '../../src/tools';

const fn = (name: string): DeclaredTool => ({ type: 'function', function: { name, parameters: { type: 'object' } } });
const none = new Set<ToolType>();
const all = new Set<ToolType>(['code_interpreter', 'file_search']);

describe('toolbox: what a run offers the model', () => {
  it('offers functions as declared and leaves out built-ins this server cannot run', () => {
    const box = toolbox([{ type: 'code_interpreter' }, fn('get_weather'), { type: 'file_search' }], none);
    expect(box.chatTools).toEqual([
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
    ]);
    expect(box.kindOfCall('get_weather').type).toBe('function');
    // A name the model invents for a tool that was not offered stays a client function call.
    expect(box.kindOfCall('code_interpreter').type).toBe('function');
    expect(toolbox([{ type: 'code_interpreter' }], none).chatTools).toEqual([]);
  });

  it('offers available built-ins under reserved names that map back to their kind', () => {
    const box = toolbox([{ type: 'code_interpreter' }, { type: 'file_search' }, fn('f')], all);
    expect(box.chatTools.map((t) => t.function.name)).toEqual(['code_interpreter', 'file_search', 'f']);
    expect(box.kindOfCall('code_interpreter').type).toBe('code_interpreter');
    expect(box.kindOfCall('file_search').type).toBe('file_search');
    expect(box.nameOf({ id: 'c', type: 'file_search', file_search: {} })).toBe('file_search');
  });

  it('renames a built-in whose reserved name a client function already uses, so every name has one kind', () => {
    const box = toolbox([fn('file_search'), { type: 'file_search' }, { type: 'file_search' }], all);
    expect(box.chatTools.map((t) => t.function.name)).toEqual(['file_search', 'file_search_builtin']);
    expect(box.kindOfCall('file_search').type).toBe('function');
    expect(box.kindOfCall('file_search_builtin').type).toBe('file_search');
  });

  it('maps tool_choice to the offered names, and a built-in that is not offered to auto', () => {
    const box = toolbox([{ type: 'file_search' }, fn('f')], new Set(['file_search']));
    expect(box.toolChoice('required')).toBe('required');
    expect(box.toolChoice({ type: 'function', function: { name: 'f' } })).toEqual({
      type: 'function',
      function: { name: 'f' },
    });
    expect(box.toolChoice({ type: 'file_search' })).toEqual({ type: 'function', function: { name: 'file_search' } });
    expect(box.toolChoice({ type: 'code_interpreter' })).toBe('auto');
  });
});

describe('tool kinds: stored calls, deltas, prompt', () => {
  it('function calls stream their raw arguments and wait for the client', () => {
    const kind = kindOf('function');
    expect(kind.executor).toBe('client');
    expect(kind.startDelta(0, 'call_1', 'f')).toEqual({
      index: 0,
      id: 'call_1',
      type: 'function',
      function: { name: 'f', arguments: '', output: null },
    });
    expect(kind.textDelta(1, '{"a"')).toEqual({ index: 1, type: 'function', function: { arguments: '{"a"' } });
    expect(kind.stored({ id: 'call_1', name: 'f', arguments: '{}' })).toEqual({
      id: 'call_1',
      type: 'function',
      function: { name: 'f', arguments: '{}', output: null },
    });
  });

  it('code_interpreter calls stream the decoded code as it is written, growing only', () => {
    const kind = kindOf('code_interpreter');
    expect(kind.executor).toBe('server');
    const args = JSON.stringify({ code: 'import pandas as pd\nprint("héllo \\u00e9")\t# 中文' });
    let last = '';
    for (let i = 0; i <= args.length; i++) {
      const text = kind.streamedText(args.slice(0, i));
      expect(text.startsWith(last)).toBe(true);
      last = text;
    }
    expect(last).toBe('import pandas as pd\nprint("héllo \\u00e9")\t# 中文');
    expect(kind.streamedText('print(1)')).toBe('print(1)'); // bare code from models that skip the JSON
    expect(kind.stored({ id: 'call_1', name: 'code_interpreter', arguments: args })).toEqual({
      id: 'call_1',
      type: 'code_interpreter',
      code_interpreter: { input: 'import pandas as pd\nprint("héllo \\u00e9")\t# 中文', outputs: [] },
    });
  });

  it('file_search calls stream nothing but an empty file_search object', () => {
    const kind = kindOf('file_search');
    expect(kind.streamedText('{"queries":["x"]}')).toBe('');
    expect(kind.startDelta(2, 'call_9', 'file_search')).toEqual({
      index: 2,
      id: 'call_9',
      type: 'file_search',
      file_search: {},
    });
  });
});

describe('partial JSON string fields', () => {
  it('decodes escapes and stops before half an escape', () => {
    expect(partialStringField('{"code": "a\\nb\\u00', 'code')).toBe('a\nb');
    expect(partialStringField('{"code": "a\\', 'code')).toBe('a');
    expect(partialStringField('{"other": 1', 'code')).toBeUndefined();
    expect(stringField('{"code":"x\\"y"}', 'code')).toBe('x"y');
  });
});

describe('message parts from tool results', () => {
  const codeResult = (files: Array<{ path: string; fileId: string }>, images: string[]) => ({
    call: { id: 'call_c', type: 'code_interpreter' as const, code_interpreter: { input: '', outputs: [] } },
    extras: { files, images },
  });

  it('annotates sandbox: links to files the code wrote, and only those', () => {
    const { annotate, images } = messagePartsFor([
      codeResult([{ path: '/mnt/data/out.csv', fileId: 'file-old' }], ['file-img1']),
      codeResult(
        [
          { path: '/mnt/data/out.csv', fileId: 'file-new' },
          { path: '/mnt/data/my report.pdf', fileId: 'file-pdf' },
        ],
        [],
      ),
    ]);
    expect(images).toEqual(['file-img1']);
    const text = 'See [csv](sandbox:/mnt/data/out.csv), sandbox:/mnt/data/my%20report.pdf. Not sandbox:/mnt/data/x.txt';
    expect(annotate(text)).toEqual([
      {
        type: 'file_path',
        text: 'sandbox:/mnt/data/out.csv',
        file_path: { file_id: 'file-new' }, // the later call that wrote the path wins
        start_index: text.indexOf('sandbox:/mnt/data/out.csv'),
        end_index: text.indexOf('sandbox:/mnt/data/out.csv') + 'sandbox:/mnt/data/out.csv'.length,
      },
      {
        type: 'file_path',
        text: 'sandbox:/mnt/data/my%20report.pdf',
        file_path: { file_id: 'file-pdf' },
        start_index: text.indexOf('sandbox:/mnt/data/my%20report.pdf'),
        end_index: text.indexOf('sandbox:/mnt/data/my%20report.pdf') + 'sandbox:/mnt/data/my%20report.pdf'.length,
      },
    ]);
  });

  it('keeps annotations in text order and never lets two overlap', () => {
    const a = () => [
      { type: 'file_path' as const, text: 'abc', file_path: { file_id: 'f1' }, start_index: 5, end_index: 8 },
    ];
    const b = () => [
      { type: 'file_path' as const, text: 'x', file_path: { file_id: 'f2' }, start_index: 0, end_index: 1 },
      { type: 'file_path' as const, text: 'bcd', file_path: { file_id: 'f3' }, start_index: 6, end_index: 9 },
    ];
    expect(combineAnnotators([a, b])('whatever').map((x) => x.text)).toEqual(['x', 'abc']);
  });
});
