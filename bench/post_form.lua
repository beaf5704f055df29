-- wrk script: POST a form whose every "{key}" is replaced by a key unique to the request
-- (the nomination form: its submission key, names and emails). Run by bench/bench_app.py as
--   wrk -c64 -d10s --latency -H "Cookie: csrftoken=..." -s bench/post_form.lua URL -- \
--       PREFIX CONTENT_TYPE TEMPLATE
-- PREFIX differs for every wrk run (a warm-up and a measured run never repeat a key); the
-- CSRF token is both the cookie (-H) and the form's _csrf_token field (in TEMPLATE).

local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("thread_number", threads)
end

local prefix, template, counter = "", "", 0

function init(args)
   prefix = args[1] .. string.format("%02d", thread_number or 0)
   template = args[3]
   wrk.method = "POST"
   wrk.headers["Content-Type"] = args[2]
end

function request()
   counter = counter + 1
   local key = string.format("%s%08d", prefix, counter)
   local body = template:gsub("{key}", key)
   return wrk.format(nil, nil, nil, body)
end
