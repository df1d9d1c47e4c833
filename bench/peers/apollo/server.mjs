// server.mjs - benchmark peer: the articles GraphQL API served by a stock
// Node.js Apollo Server 4 (startStandaloneServer) whose resolvers call the
// REST core through a RESTDataSource, as a typical Apollo user would deploy
// it, so `bin/articles-graphql` can be compared against it in one run.
//
// Run with NODE_ENV=production (Apollo then turns off introspection, the
// local landing page and stack traces in errors, as in a real deployment):
//
//   server=$(sh bench/peers/apollo/setup.sh)
//   NODE_ENV=production PORT=4100 REST_API_URL=http://127.0.0.1:5000 \
//       SCHEMA_FILE="$PWD/schema/articles.graphql" node "$server"
//
// setup.sh installs the modules outside the repository and prints the path
// of a copy of this file beside them (see the comment at its top).
//
// Environment: PORT (default 4100), REST_API_URL (default
// http://127.0.0.1:5000), SCHEMA_FILE (default ../../../schema/articles.graphql
// relative to this file; setup.sh's copy lives elsewhere, so set it there).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { RESTDataSource } from '@apollo/datasource-rest';

const schemaFile = process.env.SCHEMA_FILE ||
  fileURLToPath(new URL('../../../schema/articles.graphql', import.meta.url));
const typeDefs = readFileSync(schemaFile, 'utf8');
const port = Number(process.env.PORT || 4100);
const restApiUrl = process.env.REST_API_URL || 'http://127.0.0.1:5000';

// The REST core's article (snake_case, integer id) as the GraphQL Article.
function toArticle(a) {
  return {
    id: String(a.id),
    title: a.title,
    content: a.content,
    author: a.author,
    createdAt: a.created_at,
    updatedAt: a.updated_at,
  };
}

function isNotFound(err) {
  return err?.extensions?.response?.status === 404;
}

class ArticlesAPI extends RESTDataSource {
  constructor(options) {
    super(options);
    this.baseURL = restApiUrl.endsWith('/') ? restApiUrl : restApiUrl + '/';
  }

  async getArticle(id) {
    try {
      return toArticle(await this.get(`articles/${encodeURIComponent(id)}`));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async getArticles(limit, offset, author, search) {
    const params = {};
    if (limit != null) params.limit = String(limit);
    if (offset != null) params.offset = String(offset);
    if (author != null) params.author = author;
    if (search != null) params.q = search;
    const list = await this.get('articles', { params });
    return list.map(toArticle);
  }

  async createArticle(input) {
    return toArticle(await this.post('articles', { body: { ...input } }));
  }

  async updateArticle(id, input) {
    try {
      return toArticle(await this.patch(`articles/${encodeURIComponent(id)}`,
        { body: { ...input } }));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async deleteArticle(id) {
    try {
      await this.delete(`articles/${encodeURIComponent(id)}`); // 204
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}

const resolvers = {
  Query: {
    getArticle: (_, { id }, { dataSources }) => dataSources.articles.getArticle(id),
    getArticles: (_, { limit, offset, author, search }, { dataSources }) =>
      dataSources.articles.getArticles(limit, offset, author, search),
  },
  Mutation: {
    createArticle: (_, { input }, { dataSources }) => dataSources.articles.createArticle(input),
    updateArticle: (_, { id, input }, { dataSources }) =>
      dataSources.articles.updateArticle(id, input),
    deleteArticle: (_, { id }, { dataSources }) => dataSources.articles.deleteArticle(id),
  },
};

const server = new ApolloServer({ typeDefs, resolvers });

const { url } = await startStandaloneServer(server, {
  listen: { port, host: '127.0.0.1' },
  // A new data source per request, sharing the server's cache (Apollo's docs).
  context: async () => {
    const { cache } = server;
    return { dataSources: { articles: new ArticlesAPI({ cache }) } };
  },
});
console.log(`apollo peer ready at ${url} (REST core ${restApiUrl})`);
