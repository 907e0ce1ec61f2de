# ruff: noqa: E501  (a pattern reads best on one line, however long)
"""Sentence patterns that state a problem or a request the menu's phrases cannot foresee, in English and Spanish.

A clue is read on the utterance's lower-case words, contractions spelled out ("isn't" is "is not") and, in
Spanish, accents removed. It names an idea of the lexicon ("WRONG", "DAMAGE", ...): the choice whose own
phrases name that idea gets the caller, so a shop's tree still decides where each idea goes. Clues are
listed by priority: when several match, the first one listed decides ("it says delivered but it was
broken" is told by its first clue, the loss, as is a late parcel that came to the wrong house).
"""

from __future__ import annotations

import re

Clues = tuple[tuple[re.Pattern[str], str], ...]


def _clues(table: list[tuple[str, str]]) -> Clues:
    return tuple((re.compile(pattern), concept) for pattern, concept in table)


_NUM = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|half|some|part|a few)"
_ORDERED = r"(?:ordered|order|bought|purchased|paid for|asked for|picked|selected|chose)"
_RECEIVED = r"(?:sent|send|got|get|received|receive|shipped|gave|delivered|mailed)"
# Words after "and I got ..." that are news of the order, not what was in it.
_NEWS = r"(?:not|never|nothing|no|here|.{0,30}\b(?:email|e-mail|text|message|notification|confirmation|update|tracking|receipt|label|call|refund))"
_DEFECT = (
    r"(?:broken|damaged|crushed|smashed|ruined|destroyed|wrecked|demolished|trashed|defective|faulty|(?:is|are|was|were|came|arrived|showed up) dead|dead on arrival|leaks?|leaking|leaked|cracked|snapped|shattered|dented|ripped|torn|crackl\w*|"
    r"malfunction\w*|broke|busted|chipped|stained|frayed|moldy|rusty|rusted|scratched|fell apart|falling apart|"
    r"fell off|came off|comes off|broke off|came apart|peeling|buzzing|buzzes|overheat\w*|smokes|smoking when|sparks?|sparking|glitch\w*|jams|jammed|jamming|grinding|rattl\w*|squeak\w*|flicker\w*|"
    r"stopped working|quit working|stopped charging|cuts? out|cutting out|keeps? (?:shutting|turning) off|"
    r"missing (?:a |some )?(?:screws?|buttons?|keys?))"
)
_BROKEN_VERB = (
    r"(?:charg(?:e|ing)|(?:turn|power|switch)(?:ing)? on|work(?:ing)?|play(?:ing)?|start(?:ing)?|boot(?:ing)?|light(?:ing)? up|heat(?:ing)?(?: up)?|"
    r"cool(?:ing)?|connect(?:ing)?|pair(?:ing)?|spin(?:ning)?|drain(?:ing)?|hold(?:ing)? a charge|print(?:ing)?|blend(?:ing)?|clos(?:e|ing)|shut(?:ting)?|lock(?:ing)?|latch(?:ing)?|zip(?:ping)?|stay(?:ing)? on)"
)
# A code, a card or a site that does not work is the shop's other business, not a defect.
_NOT_GOODS = r"^(?!.*\b(?:code|coupon|card|website|site|app|account|password|link|login|discount|promo|payment)\b)"
_DELIVERED = r"(?:delivered|dropped (?:it |them |the \w+ )?off|handed|left at|left on|left by|left it|left them|left in|completed|arrived)"
_PLACE = r"(?:house|address|door|porch|building|apartment|unit|place|street|neighbou?r|mailbox|location)"

# Sending something back, said as a wish or a question ("I want to return these shoes", "how do I send it
# back?", "start a return"), or as not done yet ("I haven't sent it back yet"): a return to start, not one
# to look up ("I returned it last week", "where's my refund?").
_SEND_BACK = r"(?:return|exchange|(?:send|ship|mail) (?:\w+ ){0,3}?back)"
_OPENING = r"^(?:(?:um|uh|so|yeah|yes|hi|hello|well|okay|ok|oh|i|just|please|and) )*"

ENGLISH = _clues(
    [
        (
            rf"\b(?:want|wanna|need|like|have|hoping|trying|wish|going|gonna|how (?:do|can|would|should|could) (?:i|we)|how to|can (?:i|we)|could (?:i|we)|may (?:i|we)|is it possible) (?:to )?(?:(?:start|make|open|begin|do|initiate|set up|file|request|get) (?:a |an )?(?:new )?)?{_SEND_BACK}\b",
            "NEWRETURN",
        ),
        (
            r"\b(?:start|starting|make|making|open|opening|begin|initiate|set up|setting up|file|request|requesting|create) (?:a |an |my |the )?(?:new )?(?:return|exchange)\b(?! (?:status|label))",
            "NEWRETURN",
        ),
        (
            rf"{_OPENING}(?:(?:return|exchange) (?:an?|this|that|these|those|my|the|some|something|it|them|one|items?)\b|(?:send|ship|mail) (?:\w+ ){{0,3}}?back\b|exchange$)",
            "NEWRETURN",
        ),
        (
            r"\b(?:have|got) (?:something|an item|a \w+|some \w+|things?|stuff|items?|one|two|\w+ things) to (?:return|exchange|send back)\b",
            "NEWRETURN",
        ),
        (
            r"\b(?:have not|did not|not) (?:yet )?(?:sent|send|returned|return|mailed|shipped) (?:it |them |this |that |anything |the \w+ |my \w+ )?(?:back )?yet\b|\bhave not (?:yet )?(?:sent|returned|mailed|shipped) (?:it|them|this|that|anything|the \w+|my \w+) back\b",
            "NEWRETURN",
        ),
        # A package shown or marked delivered that the caller does not have.
        (
            rf"\b(?:says?|saying|said|shows?|showing|showed|shown|marked|listed|states?|stating|stated|updated|confirms?|confirming)\b.{{0,40}}\b{_DELIVERED}\b",
            "LOST",
        ),
        (
            rf"\b(?:left|delivered|dropped|put|gave|handed)\b.{{0,25}}\b(?:wrong|different|another|someone else is|other) {_PLACE}\b",
            "LOST",
        ),
        (
            r"\b(?:neighbou?r|neighbou?rs|someone else|somebody else|the wrong person|another person) (?:got|has|received|took|signed for|picked up) (?:my|our|the) (?:package|parcel|order|box|delivery)\b",
            "LOST",
        ),
        (
            r"\b(?:delivery|drop ?off|proof of delivery|driver is) (?:photo|picture|pic|image)\b|\b(?:photo|picture|pic|image)\b.{0,40}\b(?:door|house|porch|building|doorstep|step|mailbox|garage|apartment|address)\b",
            "LOST",
        ),
        (
            r"\b(?:taken|stolen|swiped|grabbed|snatched|took|stole) (?:it |them )?(?:from|off) (?:my|the|our) (?:front |back )?(?:steps?|porch|doorstep|door|stoop|mailbox|lobby|desk|yard)\b|\bporch pirates?\b",
            "LOST",
        ),
        (r"\b(?:delivered|dropped off)\b.{0,60}\b(?:nobody|no one) (?:came|knocked|rang|was here)\b", "LOST"),
        # Taken by someone, or signed for by someone who was not the caller.
        (
            r"\b(?:someone|somebody|a thief|thieves|people|they) (?:swiped|snatched|nabbed|pinched|nicked|lifted|grabbed|stole|took|walked off with|ran off with)\b.{0,12}\b(?:package|parcel|delivery|box|order|stuff)\b",
            "LOST",
        ),
        (
            r"\b(?:someone|somebody|a person|a stranger|someone else) signed for\b|\bsigned for\b.{0,40}\b(?:not me|nobody|no one|never signed)\b",
            "LOST",
        ),
        # A notice said it came, and it is nowhere.
        (
            r"\b(?:is|are|was|were) not anywhere\b|\bnowhere to be (?:found|seen)\b|\bno sign of (?:it|them|the|my)\b",
            "LOST",
        ),
        # Not what was ordered: another thing, size, colour, or part of the order.
        (
            rf"\b{_ORDERED}\b(?:(?!\b(?:not|never|when|where)\b).){{0,60}}\b(?:and|but)\b (?:you |they |i |we |you guys |it )?(?:all )?(?:only )?{_RECEIVED}\b(?! {_NEWS}\b)",
            "WRONG",
        ),
        (
            rf"\b(?:got|received|had|has|came with|contained|there was|there were|inside is|it is)\b.{{0,50}}\bbut (?:i|we) (?:had )?(?:{_ORDERED}|wanted|needed)\b",
            "WRONG",
        ),
        (
            rf"\b{_ORDERED}\b.{{0,60}}\b(?:and|but) (?:it is|they are|this is|what came is|i got) (?:a|an|the|only) \w+(?: \w+)?$",
            "WRONG",
        ),
        (
            rf"\bonly {_NUM}\b(?: of)?.{{0,30}}\b(?:came|arrived|showed up|were in|was in|in the box|got here|were there|was there)\b",
            "WRONG",
        ),
        (rf"\b(?:only|just) (?:got|received) {_NUM}\b", "WRONG"),
        # An empty box: none of the order in it.
        (
            r"\b(?:box|package|parcel|envelope|bag) (?:was|is|came|arrived|showed up) (?:completely |totally |just |all )?empty\b|\bnothing (?:was )?(?:inside|in (?:the|it)) (?:box|package|parcel|envelope)?\b|\b(?:an|a|the) empty (?:box|package|parcel|envelope)\b",
            "WRONG",
        ),
        # A size or a colour said, then what was ordered: "the shirt is a medium but I asked for a large".
        (
            r"\b(?:is|are|was|were|came in|came as) (?:a |an |in )?(?:small|medium|large|x-?large|extra large|size \w+|\w+ size|red|blue|green|black|white|grey|gray|pink|yellow|brown|purple|orange|beige|navy)\b.{0,30}\bbut (?:i|we) (?:ordered|asked for|wanted|picked|chose|bought)\b",
            "WRONG",
        ),
        # Expected one thing, another came; a part that should have been in the box is not.
        (
            r"\b(?:expecting|expected|waiting for)\b.{0,50}\b(?:and|but) (?:what (?:came|arrived|showed up|i got|was inside|was in the box)|i got|they sent|you sent|instead)\b",
            "WRONG",
        ),
        (
            r"\b(?:incomplete|not included|(?:is|are|was|were) not (?:in|inside) (?:the (?:box|package|parcel|order)|it|there)|left out of (?:the|my) (?:box|order|package))\b",
            "WRONG",
        ),
        (
            rf"\b(?:supposed to (?:have|come with|include|contain)|should have (?:had|come with|included)|comes with|came with)\b.{{0,50}}\b(?:only|just) {_NUM}\b",
            "WRONG",
        ),
        (r"\b(?:got|received|came with|sent)\b.{0,40}\bbut not (?:the|a|an|my|its?|their)\b", "WRONG"),
        # One thing came in place of another: "sent a men's jacket instead of a women's", "a blue one not red".
        (r"\b(?:got|received|sent|gave|delivered|shipped|came with)\b.{0,40}\binstead of\b", "WRONG"),
        (
            r"\b(?:got|received|sent|gave)\b (?:me |us )?(?:a |an |the )?\w+ (?:one|ones|pair) (?:not|instead)\b",
            "WRONG",
        ),
        # Ordered one thing, got another, without an "and" between: "ordered grey trousers, got pink ones".
        (
            rf"\b{_ORDERED} (?:(?!(?:not|never|when|where|and|but|it|them)\b)\w+ ){{1,4}}(?:you |they |i |we )?(?:got|received)\b(?! {_NEWS}\b)",
            "WRONG",
        ),
        # What the box held, then what was ordered: "the box had a toaster in it, I ordered a kettle".
        (
            r"\b(?:box|package|parcel) (?:had|contained|held)\b.{0,40}\b(?:i|we) (?:ordered|wanted|paid for|bought)\b",
            "WRONG",
        ),
        (
            r"\b(?:missing (?:a|an|one|some|two) (?:piece|part|item)s?|part of (?:my|the) order|some of (?:my|the) (?:order|items))\b",
            "WRONG",
        ),
        (
            r"\b(?:someone|somebody|another person|another customer) else is\b|\b(?:order|package|parcel|stuff) (?:for|of|addressed to) (?:someone|somebody) else\b",
            "STRANGER",
        ),
        (r"\bonly (?:half|part|some) (?:of )?(?:my|the|our) (?:order|items|stuff)\b", "WRONG"),
        # Part of what came is missing: "half the stuff is missing", "two of the plates are missing".
        (
            r"\b(?:half|part|some|most|one|two|three|\d+) (?:of )?(?:my|the|our) (?:order|items|stuff|things|pieces|parts|plates|glasses|chairs)\b.{0,10}\b(?:is|are|was|were) missing\b",
            "WRONG",
        ),
        (
            r"\b(?:addressed|labell?ed|meant|made out|shipped) (?:to|for) (?:someone|somebody) else\b|\b(?:someone|somebody) else is (?:name|address)\b",
            "STRANGER",
        ),
        (
            r"\b(?:description|picture|photo|listing|website|site|ad|page|box|label|tag) (?:said|says|showed|shows|stated)\b.{0,40}\bbut\b",
            "WRONG",
        ),
        (
            r"\b(?:got|received|sent|delivered|shipped|gave|came with)\b (?:me |us )?(?:a |an |the |somebody |someone )?(?:completely |totally |entirely )?(?:different|other|another|else's|elses) (?:person's |persons |customer's |customers )?order\b",
            "WRONG",
        ),
        (r"\b(?:mixed up|mix up|mixup|mix-up|got mixed|switched|swapped by mistake)\b", "WRONG"),
        (
            r"\b(?:is|are|was|were) not (?:my|mine|what|the (?:\w+ )?(?:i|we) (?:ordered|bought|wanted|paid for|asked for))\b",
            "WRONG",
        ),
        (
            r"\b(?:something|someone) else (?:entirely|instead|inside|in the box|altogether)\b|\b(?:is|was|got|sent|received) something else\b",
            "WRONG",
        ),
        (r"\b(?:completely|totally|entirely) different\b|\b(?:two|both) (?:left|right)s?\b", "WRONG"),
        (
            r"\b(?:wrong|incorrect) (?:size|colou?r|model|version|style|item|items|product|thing|one|ones|shade|pattern|flavou?r|type|kind|brand|pair)\b",
            "WRONG",
        ),
        # A defect.
        (rf"\b{_DEFECT}\b", "DAMAGE"),
        # A wobble, a line through the screen.
        (
            r"\b(?:wobbles|wobbly|wobbling|lopsided|(?:a |big |white |black )?lines? (?:through|across|down|on) (?:the |it|its )?(?:screen|display)?)\b",
            "DAMAGE",
        ),
        # Battered or soaked in transit, or split apart.
        (
            r"\b(?:banged up|beat up|beaten up|bashed in|(?:came|burst|broken|torn|ripped) open|mangled|warped|soaked|soggy|waterlogged|water damaged|all wet|(?:is|are|was|were|came|arrived) split|split (?:down|in half|in two|open|apart))\b",
            "DAMAGE",
        ),
        (
            rf"{_NOT_GOODS}.*(?<!you )\b(?:does|do|did|will|would|can|could|is|are) not (?:even |really )?{_BROKEN_VERB}\b",
            "DAMAGE",
        ),
        (
            r"\b(?:a|an|big|small|huge|little|large|deep|long) (?:chip|hole|tear|rip|crack|dent|scratch|stain|gash|scuff|burn mark|burn)s? (?:in|on|across|along|down)\b|\bdead pixels?\b",
            "DAMAGE",
        ),
        (r"\bin (?:two|three|four|several|many|a million|a bunch of|\d+) pieces\b", "DAMAGE"),
        (r"\bonly (?:the )?(?:left|right|one|half|top|bottom) (?:side|ear|earbud|half|speaker|channel)\b", "DAMAGE"),
        (rf"{_NOT_GOODS}.*\b(?:not|never) working\b|\bworks? (?:only )?(?:half|sometimes|intermittently)\b", "DAMAGE"),
        # Late: a date that passed or keeps moving, a parcel that stopped.
        (
            r"\b(?:package|order|delivery|parcel|shipment|stuff|box|items?|things?|purchase)s? (?:is|are|was|were|came|arrived|showed up|running) (?:so |very |really |super |way |a (?:day|week) |\w+ days )?late\b",
            "LATE",
        ),
        (
            r"\b(?:package|order|delivery|parcel|shipment)\b.{0,40}\b(?:it|they) (?:is|are) (?:so |very |really |super |way )?late\b",
            "LATE",
        ),
        (
            r"\bnot (?:\w+ ){0,3}(?:in|on) time\b|\b(?:missed|miss) the (?:date|deadline|birthday|party|event|wedding)\b|\bstill (?:says|shows|at|on) (?:label|pre-?shipment|processing)\b",
            "LATE",
        ),
        (
            r"\b(?:pushed back|pushed out|keeps? (?:on )?(?:getting )?(?:delay|push|mov|chang|reschedul|postpon)\w*|rescheduled)\b",
            "LATE",
        ),
        (r"\b(?:in transit|out for delivery) (?:for|since)\b|\bsame (?:status|place|location|spot)\b", "LATE"),
        (r"\b(?:stuck|sitting|held up|stalled)\b.{0,20}\b(?:in transit|at|in|for)\b", "LATE"),
        (r"\b(?:has|have|had) not (?:moved|updated|changed|budged)\b|\bno (?:movement|updates?)\b", "LATE"),
        (
            r"\b(?:was|were|been|am|they|you) (?:promised|guaranteed|told|quoted|meant|due|scheduled|expected)\b.{0,25}\b(?:by|on|for|to come|to arrive|to be here|to get here|(?:it|they) would (?:be here|come|arrive|get here))\b",
            "LATE",
        ),
        (r"\b(?:been forever|forever to|ages|days late|weeks late|still not here|still waiting)\b", "LATE"),
        (r"\b(?:date|deadline|window)\b.{0,40}\b(?:passed|came and went|is over|gone by|has gone)\b", "LATE"),
        # The promised time, then the present: past it, longer than said, a date now gone.
        (
            r"\b(?:past|after|beyond) the (?:estimated|expected|promised|delivery|arrival|due)\b|\blonger than (?:you|they|it|the|expected|promised|estimated)\b",
            "LATE",
        ),
        (
            r"\b(?:said|says|told me|promised|showed) (?:it|they) (?:would|will|were going to|was going to) (?:be here|arrive|come|get here|be delivered)\b.{0,30}\b(?:and|but|now)\b",
            "LATE",
        ),
        (
            r"\b(?:delivery|arrival|due|estimated|expected) date (?:was|is|said) (?:yesterday|last|on|\w+day|the \w+)\b|\bwas due (?:yesterday|last|on|\w+day)\b",
            "LATE",
        ),
        (
            r"\bsupposed to (?:get|have|receive) (?:it|them|this|that|my \w+)\b.{0,20}\b(?:by|on|before)\b.{0,30}\b(?:and|but)\b",
            "LATE",
        ),
        # Questions and requests about the shop's other business: a person answers those.
        (r"\b(?:hiring|jobs?|careers?|employment|apply for|application)\b", "OFF"),
        # What shipping costs, or whether it is free: the shop's terms, not an order's whereabouts.
        (
            r"\b(?:how much|what does|what is|cost|costs|price|fee)\b.{0,15}\b(?:shipping|delivery|to ship|to deliver)\b(?!.{0,10}\b(?:my|our)\b)(?! (?:date|status|time|day|window|estimate|update)\b)|\bshipping (?:cost|costs|fee|fees|rate|rates|charges?|prices?)\b|\bfree (?:shipping|delivery)\b",
            "OFF",
        ),
        (
            r"\b(?:store|stores|shop) (?:hours|locations?|near|nearest|address)\b|\b(?:nearest|closest) (?:store|shop|location|branch)\b|\bwhat time (?:do|does|are) (?:you|the store|it) (?:open|close)\b|\b(?:are|is) (?:you|the store) open\b",
            "OFF",
        ),
        (
            r"\b(?:gift card|giftcard|balance|points|rewards|loyalty|promo|coupon|voucher|price match|price adjustment|on sale|sale price)\b",
            "OFF",
        ),
        (
            r"\b(?:warranty|guarantee|compatible|dishwasher safe|microwave safe|oven safe|waterproof|water resistant|in stock|back in stock|come with|comes with|made of|made out of|size chart|instructions|manual|assembly)\b",
            "OFF",
        ),
        (
            r"\b(?:place|make|put in) (?:an|a new|another) order\b|\b(?:order|buy) (?:something|it|one|them) (?:over|by) (?:the )?phone\b|\b(?:review|feedback|compliment|survey|catalog|catalogue|financing|layaway|payment plan|installments?|instalments?|monthly payments?|pay (?:(?:in|over|by the) )?(?:month|monthly|parts|time))\b|\b(?:the|a|your) sale\b",
            "OFF",
        ),
        (
            r"\b(?:cordless|wireless|rechargeable|washable|refurbished|gluten|dimensions|specs|specifications|batteries included|gift wrap\w*|gift receipt|seller|sell on your|vendor|affiliate|wholesale)\b",
            "OFF",
        ),
        (
            r"\b(?:password|username|log ?in|sign ?in|my account|credit card|store card|billing|overcharged|double charged|charged twice|invoice|receipt|tax exempt|wholesale|bulk order)\b",
            "OFF",
        ),
        # "Zero" alone, as callers press or say for the operator.
        (
            r"^(?:do|does|can|will) (?:you|they|y'all|you guys|your stores?) (?:have|carry|sell|stock|make|offer)\b",
            "OFF",
        ),
        (r"^(?:do|does|is|are|can|will)\b.*\b(?:come|comes|available) in\b", "OFF"),
        (
            r"\b(?:your|the store is|opening|business|holiday) hours\b|\bhours (?:on|of operation|today|tomorrow)\b|\b(?:your|a) stores? (?:in|near|at|on)\b|\bwhere is your stores?\b",
            "OFF",
        ),
        (r"^(?:zero|press zero|operator zero)$", "PERSON"),
    ]
)

_S_NUM = r"(?:\d+|un|una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|la mitad|parte|algunos|algunas)"
_S_ORDERED = r"(?:pedi|ordene|compre|encargue|pague|pague por|pedimos|compramos)"
_S_RECEIVED = r"(?:llego|llegaron|mandaron|enviaron|recibi|recibimos|vino|vinieron|trajeron|entregaron|dieron)"

SPANISH = _clues(
    [
        # Una devolución por hacer, no una que consultar: "quiero devolver algo", "¿cómo devuelvo esto?".
        (
            r"\b(?:quiero|quisiera|queria|necesito|deseo|me gustaria|tengo que|hay que|como (?:puedo|hago para|le hago para|se)|puedo|podria|se puede|voy a|vengo a) (?:(?:hacer|iniciar|empezar|abrir|solicitar|tramitar|pedir|levantar|generar) (?:una |la |mi )?(?:nueva )?)?(?:devolver|devolucion|regresar)\b",
            "NEWRETURN",
        ),
        (
            r"\b(?:hacer|iniciar|empezar|abrir|solicitar|tramitar|levantar|generar) (?:una |la |mi )?(?:nueva )?devolucion\b|\bcomo (?:devuelvo|regreso|se devuelve)\b",
            "NEWRETURN",
        ),
        (
            r"^(?:(?:hola|bueno|pues|este|eh|oiga|si|mire|y) )*(?:devolver|regresar) (?:un|una|el|la|mi|mis|este|esta|esto|estos|estas|algo|unos|unas)\b",
            "NEWRETURN",
        ),
        (
            r"\b(?:no|todavia no|aun no) (?:lo |la |los |las )?(?:he|hemos) (?:devuelto|regresado|enviado|mandado)\b",
            "NEWRETURN",
        ),
        (
            r"\b(?:dice|decia|aparece|marca|sale|muestra|pone|indica)\b.{0,40}\b(?:entregado|entregada|entregaron|dejaron|lo dejaron|la dejaron|llego|delivered)\b",
            "LOST",
        ),
        (
            r"\b(?:robaron|robo|llevaron|se llevo)\b.{0,15}\b(?:paquete|pedido|caja|orden|entrega)\b|\b(?:entregaron|dieron|dejaron) a (?:otra persona|alguien mas|otro cliente|mi vecin[oa]|el vecino|la vecina)\b",
            "LOST",
        ),
        (
            r"\b(?:dejaron|entregaron|dejo|entrego|llevaron)\b.{0,20}\b(?:otra (?:casa|direccion|puerta)|otro (?:lugar|domicilio|edificio)|casa equivocada|direccion equivocada|vecino|vecina)\b",
            "LOST",
        ),
        (r"\b(?:foto|fotografia|imagen)\b.{0,40}\b(?:no es|no era|otra|equivocad)", "LOST"),
        # Firmado por alguien que no fue el cliente; avisado como entregado y no está en ningún lado.
        (
            r"\b(?:firmaron|firmo|firmado|firmada)\b.{0,40}\b(?:nadie|no (?:firme|firmamos|fui yo|fue nadie))\b|\b(?:alguien|otra persona) (?:firmo|lo firmo|la firmo)\b",
            "LOST",
        ),
        (
            r"\bpor ningun (?:lado|lugar|sitio)\b|\bno (?:lo |la |los |las )?(?:encuentro|encontramos|encuentra|hallo|veo) (?:(?:el|la|los|las|mi|mis|nuestro|nuestra) )?(?:paquetes?|pedidos?|cajas?|ordene?s?|entregas?|compras?)\b|\bnotificacion de entregado\b",
            "LOST",
        ),
        (
            rf"\b{_S_ORDERED}\b(?:(?!\bno\b).){{0,50}}\b(?:y|pero)\b (?:me |nos )?(?:nomas |solo |solamente |nada mas )?{_S_RECEIVED}\b(?! nada\b)",
            "WRONG",
        ),
        (
            rf"\b(?:nomas|solo|solamente|nada mas)\b (?:me |nos )?(?:llego|llegaron|vino|vinieron|recibi|mandaron) {_S_NUM}\b",
            "WRONG",
        ),
        (
            r"\b(?:caja|paquete|sobre) (?:llego|vino|venia|estaba) vaci[oa]\b|\b(?:llego|vino|venia|estaba) vaci[oa] (?:la|el|mi) (?:caja|paquete|sobre)\b|\bno (?:traia|venia|tenia) nada\b|\bfalta(?:n|ba|ban)? (?:una|un|unas|unos|dos|tres|cuatro|\d+|algo|parte|piezas?|articulos?|productos?|cosas?)\b|\bfalta(?:n|ba|ban)? (?:el|la|los|las) (?!(?:paquetes?|pedidos?|cajas?|ordene?s?|entregas?|envios?)\b)\w+|\bincomplet[oa]\b",
            "WRONG",
        ),
        (
            r"\b(?:pedido|paquete|orden|caja|cosas) (?:de|para) (?:otra persona|alguien mas|otro cliente|otra clienta|otra senora|otro senor|otra direccion)\b",
            "STRANGER",
        ),
        (r"\bno (?:es|son|era|eran) (?:mio|mia|mios|mias|nuestro|nuestra|para mi)\b", "WRONG"),
        (r"\b(?:el|la|los|las) \w+ que no (?:era|eran|pedi|ordene|queria|compre)\b", "WRONG"),
        (
            r"\b(?:se equivocaron|revolvieron|confundieron|no es el que|no son los que|no es la que|no son las que)\b",
            "WRONG",
        ),
        (
            r"\b(?:talla|color|modelo|tamano|version|estilo|marca) (?:equivocad[oa]|incorrect[oa]|diferente|distint[oa])\b|\b(?:mandaron|enviaron|llego|vino) (?:otra|otro) (?:talla|color|modelo|tamano)\b",
            "WRONG",
        ),
        (
            r"^(?!.*\b(?:codigo|cupon|tarjeta|pagina|cuenta|contrasena|app|aplicacion|pago|descuento)\b).*\b(?:defectuos[oa]|no (?:sirve|funciona|prende|enciende|carga)|dejo de (?:funcionar|servir)|gotea|tiene (?:una )?fuga|se descompuso|descompuso|rajad[oa]|estrellad[oa]|abollad[oa]|descompuest[oa]|rot[oa]s?|quebrad[oa]s?)\b",
            "DAMAGE",
        ),
        (
            r"\b(?:se tambalea|cojea|chueco|chueca|una raya en la pantalla|rayas en la pantalla|despostillad[oa]s?|desportillad[oa]s?|astillad[oa]s?|mojad[oa]s?|empapad[oa]s?|arruinad[oa]s?|se echo a perder|echad[oa]s? a perder|golpead[oa]s?|aplastad[oa]s?|maltratad[oa]s?|doblad[oa]s?)\b",
            "DAMAGE",
        ),
        (r"\b(?:deberia|debia|tenia que|tendria que) (?:de )?(?:estar|haber llegado|llegar|haber estado)\b", "LATE"),
        (
            r"\b(?:me dijeron|dijeron|me prometieron|prometieron) que (?:en|para|el|antes)\b|\bya van (?:\w+ )?(?:dias|semanas)\b",
            "LATE",
        ),
        (
            r"\b(?:me dijeron|dijeron|me prometieron|prometieron|decia|dijo)\b.{0,25}\b(?:llegaba|llegaria|iba a llegar|llegar|estaria|para el)\b",
            "LATE",
        ),
        (
            r"\blleva(?:mos|n)? (?:mas de )?(?:una|dos|tres|cuatro|\d+|varias|muchas|muchos|varios) (?:semanas?|dias?|meses?)\b",
            "LATE",
        ),
        (
            r"\b(?:no se ha movido|no ha avanzado|no se mueve|atorad[oa]|estancad[oa]|detenid[oa]|sigue sin llegar|ya paso la fecha|se paso la fecha|lo siguen posponiendo|lo pospusieron|reprogramaron)\b",
            "LATE",
        ),
        # "Era para el lunes y ya es jueves": the day it was due, then that it has gone by.
        (
            r"\b(?:era|estaba|iba a ser|quedo|estaba programad[oa]) (?:para|el) (?:el |la |ayer|antier|antes|hoy)\w*.{0,30}\b(?:y|pero) (?:ya|todavia|aun|nada|no|sigue)\b",
            "LATE",
        ),
        (r"^(?:tienen|venden|manejan|hay) (?!.*\b(?:paquete|pedido|orden)\b)", "OFF"),
        # A new order is the shop's other business: "quiero hacer un pedido".
        (
            r"\b(?:hacer|realizar|poner|levantar|meter) (?:un|una|otro|otra) (?:nuevo |nueva )?(?:pedido|orden|compra)\b",
            "OFF",
        ),
        (
            r"\bcuanto (?:cuesta|cobran|sale|vale|es)\b.{0,15}\b(?:el envio|envio|la entrega|mandar|enviar)\b|\b(?:costo|precio|tarifa) (?:del|de) envio\b|\benvio gratis\b",
            "OFF",
        ),
        (r"^(?:hacen|envian|mandan|entregan) (?:envios? |entregas? )?(?:a|al|hasta|en)\b", "OFF"),
        (
            r"\b(?:a que hora (?:abre|abren|cierra|cierran)|horario|sucursal|tienda mas cercana|donde (?:esta|estan|queda|quedan) (?:la|las) tiendas?|contratando|vacantes?|(?:hay|tienen|busco|buscan|ofrecen|solicitud de|pedir) (?:trabajo|empleo))\b",
            "OFF",
        ),
        (
            r"\b(?:tarjeta de regalo|gift card|saldo|puntos|cupon|codigo de descuento|promocion|garantia|contrasena|mi cuenta|tarjeta de credito|factura)\b",
            "OFF",
        ),
        # Preguntas sobre el producto mismo: si viene en otro color, talla o tamaño, de qué está hecho.
        (
            r"\b(?:viene|vienen|hay|tienen|manejan|existe)\b.{0,25}\ben (?:color|colores|talla|tallas|tamano|tamanos|medida|otro color|otra talla|otro tamano)\b|\bde que (?:material|esta hecho|esta hecha|son)\b",
            "OFF",
        ),
        (r"^(?:cero|operador cero)$", "PERSON"),
        # Whether it has gone out yet: "queria ver si ya lo enviaron".
        (
            r"\bsi ya (?:lo |la |los |las |me |nos )?(?:enviaron|mandaron|salio|salieron|despacharon|viene|va en camino)\b",
            "TRACK",
        ),
    ]
)
