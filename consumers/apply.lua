#!lua name=claimsd
--
-- claimsd_apply: apply one partition batch atomically (design.md section 2.1).
--
-- The offset fence runs first and every read happens before the first write,
-- so a rejected batch writes nothing. Counter increments are summed per
-- (key, field) in Lua tables and written once at the end, which keeps the
-- number of Redis calls per claim near three (bene lookup, claim state GET,
-- claim state SET). Argument layout is built by consumers/batch.c:
--
--   KEYS[1]  <prefix>offset
--   ARGV     prefix, topic/partition, from, to, watermark ('' = none), n,
--            then n messages:
--     C off claim_h version_h digest rank adj bene_h recv_yyyymm ctype
--       count_yyyymm tin1 tin2 npi1 npi2 nb {yyyymm paid allowed}*nb
--     D off reason
--     M
--     A bene_h year value        (value '' removes the year's attribution)
--
-- Returns {1, to, applied, duplicate, stale, dead_letter, conflict
-- offsets...} on success or {0, stored_offset} when the fence rejects the
-- batch. Conflicts are found here (they need the stored version), so the
-- caller produces their dead-letter records after the call.
--
-- Amounts are Lua doubles: exact below 2^53. The decoder bounds every amount
-- (limits.max_claim_cents) and batches are at most 5,000 messages, so sums
-- stay exact; increments are formatted with %d, never tostring().

local function fmt(n)
    return string.format('%d', n)
end

-- Split on a one-character separator, keeping empty fields.
local function split(s, sep)
    local out = {}
    local start = 1
    while true do
        local at = string.find(s, sep, start, true)
        if not at then
            out[#out + 1] = string.sub(s, start)
            return out
        end
        out[#out + 1] = string.sub(s, start, at - 1)
        start = at + 1
    end
end

local function apply(keys, args)
    local prefix, tp = args[1], args[2]
    local from, to = args[3], args[4]
    local wm, n = args[5], tonumber(args[6])

    local stored = redis.call('HGET', keys[1], tp)
    if stored and stored ~= from then
        return {0, tonumber(stored)}
    end

    local incr = {}     -- key -> field -> delta
    local claim_set = {}  -- key -> new state (last write wins)
    local claim_cache = {}
    local bene_cache = {}
    local part_cache = {}
    local acos = {}
    local dlq = {}
    local attr = {}
    local applied, dup, stale, cancels, markers = 0, 0, 0, 0, 0

    local function add(key, field, d)
        if d == 0 then
            return
        end
        local t = incr[key]
        if not t then
            t = {}
            incr[key] = t
        end
        t[field] = (t[field] or 0) + d
    end

    local function stat(field, d)
        add(prefix .. 'stats', field, d)
    end

    local function bene_year(bh, year)
        local k = bh .. ':' .. year
        local v = bene_cache[k]
        if v == nil then
            v = redis.call('HGET', prefix .. 'bene:' .. bh, year) or false
            bene_cache[k] = v
        end
        return v
    end

    local function participant(year, field)
        if field == '' then
            return false
        end
        local k = year .. ':' .. field
        local v = part_cache[k]
        if v == nil then
            v = redis.call('HGET', prefix .. 'participant:' .. year, field)
                or false
            part_cache[k] = v
        end
        return v
    end

    -- Attribution of one bucket (docs/netting.md section 4): returns target, enroll.
    local function attribute(bh, yyyymm, tins, npis)
        local year = string.sub(yyyymm, 1, 4)
        local month = tonumber(string.sub(yyyymm, 5, 6))
        local rec = bene_year(bh, year)
        local enroll = 'U'
        local reason = '~no_attribution'
        local f = rec and split(rec, ':')
        local mask = f and tonumber(f[3])
        -- A malformed record (hand-edited, say) counts as no record rather
        -- than failing every batch of the partition forever.
        if mask then
            enroll = f[2]
            if math.floor(mask / 2 ^ (month - 1)) % 2 == 1 then
                return f[1], enroll
            end
            reason = '~not_assigned_month'
        end
        for _, tin in ipairs(tins) do
            local a = participant(year, tin ~= '' and ('tin:' .. tin) or '')
            if a then
                return a, enroll
            end
        end
        for _, npi in ipairs(npis) do
            local a = participant(year, npi ~= '' and ('npi:' .. npi) or '')
            if a then
                return a, enroll
            end
        end
        return reason, enroll
    end

    -- Add (sign = 1) or remove (sign = -1) a contribution list, booking the
    -- change in received month recv.
    local function book(contribs, sign, recv)
        for _, c in ipairs(contribs) do
            local target, year, mm, e, tt = c[1], c[2], c[3], c[4], c[5]
            local key, base
            if string.sub(target, 1, 1) == '~' then
                key = prefix .. 'unattributed:' .. year
                base = mm .. ':' .. e .. ':' .. tt .. ':' .. recv .. ':'
                    .. string.sub(target, 2) .. ':'
            else
                key = prefix .. 'aco:' .. target .. ':exp:' .. year
                base = mm .. ':' .. e .. ':' .. tt .. ':' .. recv .. ':'
                acos[target] = true
            end
            add(key, base .. 'p', sign * c[6])
            add(key, base .. 'a', sign * c[7])
            add(key, base .. 'n', sign * c[8])
        end
    end

    local function parse_contribs(s)
        local out = {}
        if s == '' then
            return out
        end
        for item in string.gmatch(s, '[^;]+') do
            local f = split(item, ',')
            out[#out + 1] = {f[1], f[2], f[3], f[4], f[5], tonumber(f[6]),
                tonumber(f[7]), tonumber(f[8])}
        end
        return out
    end

    local function encode_contribs(list)
        local parts = {}
        for i, c in ipairs(list) do
            parts[i] = c[1] .. ',' .. c[2] .. ',' .. c[3] .. ',' .. c[4] .. ','
                .. c[5] .. ',' .. fmt(c[6]) .. ',' .. fmt(c[7]) .. ','
                .. fmt(c[8])
        end
        return table.concat(parts, ';')
    end

    local function claim_state(key)
        local v = claim_cache[key]
        if v == nil then
            v = redis.call('GET', key) or false
            claim_cache[key] = v
        end
        return v
    end

    local i = 7
    for _ = 1, n do
        local kind = args[i]
        if kind == 'C' then
            local off, ch, vh, digest = args[i + 1], args[i + 2], args[i + 3],
                args[i + 4]
            local rank, adj, bh, recv = args[i + 5], args[i + 6], args[i + 7],
                args[i + 8]
            local tt, count_month = args[i + 9], args[i + 10]
            local tins = {args[i + 11], args[i + 12]}
            local npis = {args[i + 13], args[i + 14]}
            local nb = tonumber(args[i + 15])
            local j = i + 16
            i = j + 3 * nb

            local key = prefix .. 'claim:' .. ch
            local state = claim_state(key)
            local old = nil
            local verdict = 'apply'
            if state then
                local f = split(state, '|')
                if f[2] == vh then
                    verdict = (f[3] == digest) and 'dup' or 'conflict'
                elseif rank < f[1] then
                    verdict = 'stale'
                else
                    old = parse_contribs(f[5])
                end
            end

            if verdict == 'dup' then
                dup = dup + 1
            elseif verdict == 'stale' then
                stale = stale + 1
            elseif verdict == 'conflict' then
                dlq[#dlq + 1] = {off, 'version_conflict'}
            else
                local new = {}
                if adj ~= 'C' then
                    for b = 0, nb - 1 do
                        local ym = args[j + 3 * b]
                        local target, e = attribute(bh, ym, tins, npis)
                        local cnt = (ym == count_month) and 1 or 0
                        if cnt == 1 and string.sub(target, 1, 1) == '~' then
                            stat('unattributed:' .. string.sub(target, 2), 1)
                        end
                        new[#new + 1] = {target, string.sub(ym, 1, 4),
                            string.sub(ym, 5, 6), e, tt,
                            tonumber(args[j + 3 * b + 1]),
                            tonumber(args[j + 3 * b + 2]), cnt}
                    end
                else
                    cancels = cancels + 1
                end
                if old then
                    book(old, -1, recv)
                end
                book(new, 1, recv)
                local s = rank .. '|' .. vh .. '|' .. digest .. '|' .. adj
                    .. '|' .. encode_contribs(new)
                claim_set[key] = s
                claim_cache[key] = s
                applied = applied + 1
            end
        elseif kind == 'D' then
            dlq[#dlq + 1] = {args[i + 1], args[i + 2]}
            i = i + 3
        elseif kind == 'M' then
            markers = markers + 1
            i = i + 1
        elseif kind == 'A' then
            local bh, year, value = args[i + 1], args[i + 2], args[i + 3]
            attr[#attr + 1] = {bh, year, value}
            bene_cache[bh .. ':' .. year] = (value ~= '') and value or false
            i = i + 4
        else
            return redis.error_reply('ERR claimsd_apply: bad message kind')
        end
    end

    -- All reads are done; from here on only writes.
    for key, s in pairs(claim_set) do
        redis.call('SET', key, s)
    end
    for _, a in ipairs(attr) do
        local bkey = prefix .. 'bene:' .. a[1]
        if a[3] == '' then
            redis.call('HDEL', bkey, a[2])
        else
            redis.call('HSET', bkey, a[2], a[3])
            local aco = split(a[3], ':')[1]
            acos[aco] = true
        end
    end
    for key, fields in pairs(incr) do
        for field, d in pairs(fields) do
            if d ~= 0 then
                redis.call('HINCRBY', key, field, fmt(d))
            end
        end
    end
    for _, d in ipairs(dlq) do
        redis.call('HINCRBY', prefix .. 'dlq:count', d[2], 1)
        redis.call('XADD', prefix .. 'dlq', 'MAXLEN', '~', '100000', '*',
            'topic_partition', tp, 'offset', d[1], 'reason', d[2])
    end
    local acolist = {}
    for aco in pairs(acos) do
        acolist[#acolist + 1] = aco
    end
    if #acolist > 0 then
        redis.call('SADD', prefix .. 'acos', unpack(acolist))
    end
    local st = prefix .. 'stats'
    redis.call('HINCRBY', st, 'batches', 1)
    if applied > 0 then redis.call('HINCRBY', st, 'claims', applied) end
    if dup > 0 then redis.call('HINCRBY', st, 'duplicate', dup) end
    if stale > 0 then redis.call('HINCRBY', st, 'stale', stale) end
    if cancels > 0 then redis.call('HINCRBY', st, 'cancel', cancels) end
    if markers > 0 then redis.call('HINCRBY', st, 'markers', markers) end
    if #attr > 0 then redis.call('HINCRBY', st, 'attribution', #attr) end
    if #dlq > 0 then redis.call('HINCRBY', st, 'dead_letter', #dlq) end
    if wm ~= '' then
        local cur = redis.call('HGET', prefix .. 'watermark', tp)
        if not cur or tonumber(cur) < tonumber(wm) then
            redis.call('HSET', prefix .. 'watermark', tp, wm)
        end
    end
    redis.call('HSET', keys[1], tp, to)
    local reply = {1, tonumber(to), applied, dup, stale, #dlq}
    for _, d in ipairs(dlq) do
        if d[2] == 'version_conflict' then
            reply[#reply + 1] = tonumber(d[1])
        end
    end
    return reply
end

redis.register_function('claimsd_apply', apply)
