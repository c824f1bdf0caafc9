// PM2 ecosystem file in JavaScript: evaluated with node.
const base = { max_restarts: 3, kill_timeout: 3000 };
module.exports = {
  apps: [
    { ...base, name: "web", script: "app.js", env: { PORT: String(4000 + 1) } },
  ],
};
