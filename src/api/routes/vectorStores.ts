import { Router, type Request } from 'express';
import { ListQuery } from '../../schemas/list';
import {
  CreateFileBatchBody,
  CreateVectorStoreBody,
  CreateVectorStoreFileBody,
  ListVectorStoreFilesQuery,
  SearchBody,
  UpdateVectorStoreBody,
  UpdateVectorStoreFileBody,
} from '../../schemas/vectorStores';
import type { Services } from '../../services';
import { idParam, scopeOf } from '../http';
import { pathParamProblem } from '../inspect';
import { parseRequest } from '../validation';

/** Vector stores, their files and file batches, and search (reference §1.7–1.9). */
export function vectorStoresRouter({ vectorStores }: Services): Router {
  const router = Router();
  const storeId = (req: Request) => idParam(req, 'vector_store_id', 'vs');
  const batchId = (req: Request) => idParam(req, 'batch_id', 'vsfb');
  // Like the Files API: no prefix check; an unknown file id is a 404 whatever its shape.
  const fileId = (req: Request) => {
    const value = String(req.params.file_id ?? '');
    const problem = pathParamProblem('file_id', value);
    if (problem) throw problem;
    return value;
  };

  router.post('/vector_stores', async (req, res) => {
    res.json(await vectorStores.create(scopeOf(res), parseRequest(CreateVectorStoreBody, req.body ?? {})));
  });
  router.get('/vector_stores', async (req, res) => {
    res.json(await vectorStores.list(scopeOf(res), parseRequest(ListQuery, req.query)));
  });
  router.get('/vector_stores/:vector_store_id', async (req, res) => {
    res.json(await vectorStores.retrieve(scopeOf(res), storeId(req)));
  });
  router.post('/vector_stores/:vector_store_id', async (req, res) => {
    const id = storeId(req);
    res.json(await vectorStores.update(scopeOf(res), id, parseRequest(UpdateVectorStoreBody, req.body ?? {})));
  });
  router.delete('/vector_stores/:vector_store_id', async (req, res) => {
    res.json(await vectorStores.delete(scopeOf(res), storeId(req)));
  });
  router.post('/vector_stores/:vector_store_id/search', async (req, res) => {
    const id = storeId(req);
    res.json(await vectorStores.search(scopeOf(res), id, parseRequest(SearchBody, req.body ?? {})));
  });

  router.post('/vector_stores/:vector_store_id/files', async (req, res) => {
    const id = storeId(req);
    res.json(await vectorStores.createFile(scopeOf(res), id, parseRequest(CreateVectorStoreFileBody, req.body ?? {})));
  });
  router.get('/vector_stores/:vector_store_id/files', async (req, res) => {
    const id = storeId(req);
    res.json(await vectorStores.listFiles(scopeOf(res), id, parseRequest(ListVectorStoreFilesQuery, req.query)));
  });
  router.get('/vector_stores/:vector_store_id/files/:file_id', async (req, res) => {
    pollHint(res);
    res.json(await vectorStores.retrieveFile(scopeOf(res), storeId(req), fileId(req)));
  });
  router.post('/vector_stores/:vector_store_id/files/:file_id', async (req, res) => {
    const [id, file] = [storeId(req), fileId(req)];
    const { attributes } = parseRequest(UpdateVectorStoreFileBody, req.body ?? {});
    res.json(await vectorStores.updateFile(scopeOf(res), id, file, attributes));
  });
  router.delete('/vector_stores/:vector_store_id/files/:file_id', async (req, res) => {
    res.json(await vectorStores.deleteFile(scopeOf(res), storeId(req), fileId(req)));
  });
  router.get('/vector_stores/:vector_store_id/files/:file_id/content', async (req, res) => {
    res.json(await vectorStores.fileContent(scopeOf(res), storeId(req), fileId(req)));
  });

  router.post('/vector_stores/:vector_store_id/file_batches', async (req, res) => {
    const id = storeId(req);
    res.json(await vectorStores.createBatch(scopeOf(res), id, parseRequest(CreateFileBatchBody, req.body ?? {})));
  });
  router.get('/vector_stores/:vector_store_id/file_batches/:batch_id', async (req, res) => {
    pollHint(res);
    res.json(await vectorStores.retrieveBatch(scopeOf(res), storeId(req), batchId(req)));
  });
  router.post('/vector_stores/:vector_store_id/file_batches/:batch_id/cancel', async (req, res) => {
    res.json(await vectorStores.cancelBatch(scopeOf(res), storeId(req), batchId(req)));
  });
  router.get('/vector_stores/:vector_store_id/file_batches/:batch_id/files', async (req, res) => {
    const [id, batch] = [storeId(req), batchId(req)];
    const query = parseRequest(ListVectorStoreFilesQuery, req.query);
    res.json(await vectorStores.listFiles(scopeOf(res), id, query, batch));
  });
  return router;
}

/** The SDKs' polling helpers wait this long between polls when the server says so (reference §6.3). */
function pollHint(res: { setHeader(name: string, value: string): unknown }): void {
  res.setHeader('openai-poll-after-ms', '500');
}
