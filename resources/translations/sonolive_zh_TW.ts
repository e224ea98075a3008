<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_TW">
<context>
    <name>AnnotatePanel</name>
    <message>
        <location filename="../../app/annotate/panel.py" line="73"/>
        <source>Brush (B)</source>
        <translation>筆刷（B）</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="74"/>
        <source>Eraser (E)</source>
        <translation>橡皮擦（E）</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="75"/>
        <source>Lasso (L)</source>
        <translation>套索（L）</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="93"/>
        <source>Opacity</source>
        <translation>不透明度</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="95"/>
        <source>Hide my labels (H)</source>
        <translation>隱藏我的標註（H）</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="120"/>
        <source>Fill from model (P)</source>
        <translation>以模型預測填入（P）</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="122"/>
        <source>Undo</source>
        <translation>復原</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="124"/>
        <source>Redo</source>
        <translation>重做</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="127"/>
        <source>Your name</source>
        <translation>您的姓名</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="128"/>
        <source>Save to dataset (Ctrl+S)</source>
        <translation>儲存至資料集（Ctrl+S）</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="133"/>
        <source>Annotator</source>
        <translation>標註者</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="174"/>
        <source>No model prediction for this frame</source>
        <translation>此幀沒有模型預測</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="177"/>
        <source>The model&apos;s mask does not match this frame&apos;s size</source>
        <translation>模型的遮罩與此幀的尺寸不符</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="185"/>
        <source>Pick a dataset folder first</source>
        <translation>請先選擇資料集資料夾</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="235"/>
        <source>Saved %1</source>
        <translation>已儲存 %1</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="253"/>
        <source>Editing %1</source>
        <translation>正在編輯 %1</translation>
    </message>
    <message>
        <location filename="../../app/annotate/panel.py" line="261"/>
        <source>Brush %1 px</source>
        <translation>筆刷 %1 px</translation>
    </message>
    <message>
        <source>The model found no organ on this frame (it may be unlike its training data): nothing to fill, paint it by hand</source>
        <translation>模型在此畫面上沒有找到器官（可能與其訓練資料不同）：沒有可填入的內容，請手動塗繪</translation>
    </message>
    <message>
        <source>Filled from the model: correct it, then save (Ctrl+S)</source>
        <translation>已由模型填入：請修正後儲存（Ctrl+S）</translation>
    </message>
    <message>
        <source>Choose a dataset folder: the frame is saved there</source>
        <translation>請選擇資料集資料夾：畫面會儲存在那裡</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>儲存中…</translation>
    </message>
</context>
<context>
    <name>AnnotateWindow</name>
    <message>
        <location filename="../../app/annotate/window.py" line="38"/>
        <source>Annotate — SonoLive (not for diagnostic use)</source>
        <translation>標註 — SonoLive（非診斷用途）</translation>
    </message>
    <message>
        <location filename="../../app/annotate/window.py" line="41"/>
        <source>Dataset folder…</source>
        <translation>資料集資料夾…</translation>
    </message>
    <message>
        <location filename="../../app/annotate/window.py" line="46"/>
        <source>Train from this dataset…</source>
        <translation>以此資料集訓練…</translation>
    </message>
    <message>
        <location filename="../../app/annotate/window.py" line="60"/>
        <source>Dataset folder (new or made by SonoLive)</source>
        <translation>資料集資料夾（新建或由 SonoLive 建立）</translation>
    </message>
    <message>
        <location filename="../../app/annotate/window.py" line="76"/>
        <source>Pick a dataset folder and a model first</source>
        <translation>請先選擇資料集資料夾與模型</translation>
    </message>
</context>
<context>
    <name>CamPanel</name>
    <message>
        <location filename="../../app/teaching/cam_panel.py" line="17"/>
        <source>Show CAM heatmap</source>
        <translation>顯示 CAM 熱圖</translation>
    </message>
    <message>
        <location filename="../../app/teaching/cam_panel.py" line="24"/>
        <source>Organ</source>
        <translation>器官</translation>
    </message>
    <message>
        <location filename="../../app/teaching/cam_panel.py" line="25"/>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <location filename="../../app/teaching/cam_panel.py" line="26"/>
        <source>Layer</source>
        <translation>層</translation>
    </message>
    <message>
        <location filename="../../app/teaching/cam_panel.py" line="27"/>
        <source>Map age</source>
        <translation>熱圖延遲</translation>
    </message>
    <message>
        <location filename="../../app/teaching/cam_panel.py" line="37"/>
        <source>auto (largest organ)</source>
        <translation>自動（最大器官）</translation>
    </message>
    <message>
        <location filename="../../app/teaching/cam_panel.py" line="65"/>
        <source>%1: %2 frames old · %3 maps/s</source>
        <translation>%1：%2 幀前 · 每秒 %3 張</translation>
    </message>
</context>
<context>
    <name>DatasetPanel</name>
    <message>
        <location filename="../../app/annotate/dataset_panel.py" line="65"/>
        <source>No dataset folder yet</source>
        <translation>尚未選擇資料集資料夾</translation>
    </message>
    <message>
        <location filename="../../app/annotate/dataset_panel.py" line="69"/>
        <source>Reopen to edit</source>
        <translation>重新開啟以編輯</translation>
    </message>
    <message>
        <location filename="../../app/annotate/dataset_panel.py" line="70"/>
        <source>Delete</source>
        <translation>刪除</translation>
    </message>
    <message>
        <location filename="../../app/annotate/dataset_panel.py" line="71"/>
        <source>Go to source frame</source>
        <translation>前往來源幀</translation>
    </message>
    <message>
        <location filename="../../app/annotate/dataset_panel.py" line="103"/>
        <source>%1: %2 frames</source>
        <translation>%1：%2 幀</translation>
    </message>
    <message>
        <location filename="../../app/annotate/dataset_panel.py" line="113"/>
        <source>broken: see &apos;sonolive dataset info&apos;</source>
        <translation>已損壞：請執行 &apos;sonolive dataset info&apos; 查看</translation>
    </message>
</context>
<context>
    <name>InputPicker</name>
    <message>
        <location filename="../../app/source/picker.py" line="138"/>
        <source>Simulated scanner</source>
        <translation>模擬掃描器</translation>
    </message>
    <message>
        <location filename="../../app/source/picker.py" line="139"/>
        <source>Open video file…</source>
        <translation>開啟影片檔…</translation>
    </message>
    <message>
        <location filename="../../app/source/picker.py" line="140"/>
        <source>Stream URL…</source>
        <translation>串流網址…</translation>
    </message>
    <message>
        <location filename="../../app/source/picker.py" line="206"/>
        <source>Open a video or DICOM cine</source>
        <translation>開啟影片或 DICOM 動態影像</translation>
    </message>
    <message>
        <location filename="../../app/source/picker.py" line="208"/>
        <source>Video or DICOM (*.mp4 *.mov *.avi *.mkv *.dcm *.dicom);;All files (*)</source>
        <translation>影片或 DICOM (*.mp4 *.mov *.avi *.mkv *.dcm *.dicom);;所有檔案 (*)</translation>
    </message>
    <message>
        <location filename="../../app/source/picker.py" line="217"/>
        <source>Stream URL</source>
        <translation>串流網址</translation>
    </message>
    <message>
        <location filename="../../app/source/picker.py" line="218"/>
        <source>rtsp:// or http(s):// address of the stream:</source>
        <translation>串流的 rtsp:// 或 http(s):// 位址：</translation>
    </message>
    <message>
        <location filename="../../app/source/picker.py" line="229"/>
        <source>Not a stream address: %1 (use rtsp://, http:// or https://)</source>
        <translation>不是串流位址：%1（請使用 rtsp://、http:// 或 https://）</translation>
    </message>
    <message>
        <location filename="../../app/source/picker.py" line="244"/>
        <location filename="../../app/source/picker.py" line="357"/>
        <source>Connecting to %1…</source>
        <translation>正在連接 %1…</translation>
    </message>
    <message>
        <location filename="../../app/source/picker.py" line="349"/>
        <source>No signal: %1</source>
        <translation>無訊號：%1</translation>
    </message>
    <message>
        <location filename="../../app/source/picker.py" line="352"/>
        <source>No signal: %1 — %2</source>
        <translation>無訊號：%1 — %2</translation>
    </message>
</context>
<context>
    <name>LegendPanel</name>
    <message>
        <location filename="../../app/teaching/legend_panel.py" line="14"/>
        <source>Liver</source>
        <translation>肝臟</translation>
    </message>
    <message>
        <location filename="../../app/teaching/legend_panel.py" line="15"/>
        <source>Kidney</source>
        <translation>腎臟</translation>
    </message>
    <message>
        <location filename="../../app/teaching/legend_panel.py" line="16"/>
        <source>Spleen</source>
        <translation>脾臟</translation>
    </message>
    <message>
        <location filename="../../app/teaching/legend_panel.py" line="17"/>
        <source>Bladder</source>
        <translation>膀胱</translation>
    </message>
    <message>
        <location filename="../../app/teaching/legend_panel.py" line="18"/>
        <source>Heart</source>
        <translation>心臟</translation>
    </message>
    <message>
        <location filename="../../app/teaching/legend_panel.py" line="19"/>
        <source>Free fluid</source>
        <translation>游離液體</translation>
    </message>
    <message>
        <location filename="../../app/teaching/legend_panel.py" line="20"/>
        <source>Nerve</source>
        <translation>神經</translation>
    </message>
    <message>
        <location filename="../../app/teaching/legend_panel.py" line="21"/>
        <source>Vessel</source>
        <translation>血管</translation>
    </message>
    <message>
        <location filename="../../app/teaching/legend_panel.py" line="29"/>
        <source>Legend</source>
        <translation>圖例</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../app/annotate/window.py" line="97"/>
        <source>Annotate this frame</source>
        <translation>標註此幀</translation>
    </message>
    <message>
        <location filename="../../app/annotate/window.py" line="123"/>
        <source>Load a model before annotating</source>
        <translation>請先載入模型再進行標註</translation>
    </message>
    <message>
        <location filename="../../app/annotate/window.py" line="156"/>
        <source>No frame to annotate yet</source>
        <translation>尚無可標註的幀</translation>
    </message>
    <message>
        <location filename="../../app/annotate/window.py" line="195"/>
        <source>Source clip %1 is not among recent clips</source>
        <translation>來源影片 %1 不在最近的影片中</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="62"/>
        <source>SonoLive — not for diagnostic use</source>
        <translation>SonoLive — 非診斷用途</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="111"/>
        <source>Overlay</source>
        <translation>疊加</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="112"/>
        <source>Legend</source>
        <translation>圖例</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="113"/>
        <source>CAM heatmap</source>
        <translation>CAM 熱圖</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="123"/>
        <source>Simulated scanner</source>
        <translation>模擬掃描器</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="128"/>
        <source>Input and model</source>
        <translation>輸入與模型</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="130"/>
        <source> Input </source>
        <translation> 輸入 </translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="132"/>
        <source> Model </source>
        <translation> 模型 </translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="137"/>
        <source>Mode</source>
        <translation>模式</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="143"/>
        <source>Bedside</source>
        <translation>床邊</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="144"/>
        <source>Teaching</source>
        <translation>教學</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="145"/>
        <location filename="../../app/review/controller.py" line="733"/>
        <source>Review</source>
        <translation>回顧</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="153"/>
        <source>Fullscreen</source>
        <translation>全螢幕</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="156"/>
        <source>Presenter view</source>
        <translation>簡報檢視</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="159"/>
        <source>Raw | overlay</source>
        <translation>原始 | 疊加</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="251"/>
        <source>(no overlay)</source>
        <translation>（不疊加）</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="303"/>
        <source>no model</source>
        <translation>無模型</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="306"/>
        <source>Model “%1” could not be loaded, so the picture is shown without overlay. %2</source>
        <translation>無法載入模型「%1」，畫面將不含疊加顯示。%2</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="348"/>
        <location filename="../../app/main_window.py" line="350"/>
        <source>No signal</source>
        <translation>無訊號</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="357"/>
        <source>End of clip: %1</source>
        <translation>影片結束：%1</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="380"/>
        <source>The picture comes from the simulated scanner.</source>
        <translation>畫面來自模擬掃描器。</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="382"/>
        <source>The model was trained on simulated images only.</source>
        <translation>此模型僅以模擬影像訓練。</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="384"/>
        <source>Not for diagnostic use</source>
        <translation>非診斷用途</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="386"/>
        <source>Model trained on simulated images</source>
        <translation>模型以模擬影像訓練</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="388"/>
        <source>Simulated data</source>
        <translation>模擬資料</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="99"/>
        <source>&amp;Dataset</source>
        <translation>資料集(&amp;D)</translation>
    </message>
    <message>
        <location filename="../../app/ood_control.py" line="47"/>
        <location filename="../../app/ood_control.py" line="56"/>
        <source>like training data</source>
        <translation>與訓練資料相似</translation>
    </message>
    <message>
        <location filename="../../app/ood_control.py" line="49"/>
        <location filename="../../app/ood_control.py" line="54"/>
        <location filename="../../app/ood_control.py" line="114"/>
        <source>not checked</source>
        <translation>未檢查</translation>
    </message>
    <message>
        <location filename="../../app/ood_control.py" line="58"/>
        <source>unlike training data</source>
        <translation>與訓練資料不同</translation>
    </message>
    <message>
        <location filename="../../app/ood_control.py" line="75"/>
        <source>Show anyway</source>
        <translation>仍要顯示</translation>
    </message>
    <message>
        <location filename="../../app/ood_control.py" line="77"/>
        <source>Draw the overlay even on pictures unlike the model&apos;s training data (marked)</source>
        <translation>即使畫面與模型的訓練資料不同，仍繪製疊加（會加上標記）</translation>
    </message>
    <message>
        <location filename="../../app/ood_control.py" line="82"/>
        <source>Like the training data:</source>
        <translation>與訓練資料的相似度：</translation>
    </message>
    <message>
        <location filename="../../app/ood_control.py" line="117"/>
        <source>score %1 (threshold %2)</source>
        <translation>分數 %1（門檻值 %2）</translation>
    </message>
    <message>
        <location filename="../../app/ood_control.py" line="123"/>
        <source>network features + picture statistics</source>
        <translation>網路特徵＋影像統計</translation>
    </message>
    <message>
        <location filename="../../app/ood_control.py" line="125"/>
        <source>picture and output statistics only</source>
        <translation>僅影像與輸出統計</translation>
    </message>
    <message>
        <location filename="../../app/ood_control.py" line="120"/>
        <source>shown anyway</source>
        <translation>仍顯示</translation>
    </message>
    <message>
        <location filename="../../app/ood_control.py" line="120"/>
        <source>hidden</source>
        <translation>已隱藏</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="256"/>
        <source>Quiz from a dataset folder…</source>
        <translation>從資料集資料夾出題…</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="258"/>
        <source>Quiz on this frame, or add it to the open quiz</source>
        <translation>以此幀出題，或加入開啟中的測驗</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="272"/>
        <source>Nothing to quiz on</source>
        <translation>沒有可出題的內容</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="282"/>
        <source>Dataset folder for the quiz</source>
        <translation>測驗用的資料集資料夾</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="295"/>
        <source>No model mask for this frame</source>
        <translation>此幀沒有模型遮罩</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="300"/>
        <source>The model found no organ to trace here</source>
        <translation>模型在此畫面中找不到可描繪的器官</translation>
    </message>
    <message>
        <location filename="../../app/export/recording.py" line="142"/>
        <source>Recording could not start: %1</source>
        <translation>無法開始錄影：%1</translation>
    </message>
    <message>
        <location filename="../../app/export/recording.py" line="190"/>
        <source>Record</source>
        <translation>錄影</translation>
    </message>
    <message>
        <location filename="../../app/export/recording.py" line="192"/>
        <source>Start or stop recording (R)</source>
        <translation>開始或停止錄影（R）</translation>
    </message>
    <message>
        <location filename="../../app/export/recording.py" line="196"/>
        <source>&amp;Record</source>
        <translation>錄影(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../app/export/recording.py" line="203"/>
        <source>Raw picture</source>
        <translation>原始畫面</translation>
    </message>
    <message>
        <location filename="../../app/export/recording.py" line="204"/>
        <source>Picture with overlay</source>
        <translation>含疊加的畫面</translation>
    </message>
    <message>
        <location filename="../../app/export/recording.py" line="205"/>
        <source>Both (two files)</source>
        <translation>兩者（兩個檔案）</translation>
    </message>
    <message>
        <location filename="../../app/export/recording.py" line="216"/>
        <source>Watermark “Not for diagnostic use”</source>
        <translation>浮水印「非診斷用途」</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="756"/>
        <source>&amp;File</source>
        <translation>檔案(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="112"/>
        <source>&amp;Quit</source>
        <translation>結束(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="758"/>
        <source>Open clip…</source>
        <translation>開啟影片…</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="761"/>
        <source>Open image folder…</source>
        <translation>開啟影像資料夾…</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="764"/>
        <source>Recent clips</source>
        <translation>最近的影片</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="789"/>
        <source>Open clip</source>
        <translation>開啟影片</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="791"/>
        <source>Clips (%1);;All files (*)</source>
        <translation>影片（%1）;;所有檔案 (*)</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="802"/>
        <source>Open a folder of still images</source>
        <translation>開啟靜態影像資料夾</translation>
    </message>
    <message>
        <location filename="../../app/source/roi_editor.py" line="257"/>
        <source>The simulated scanner needs no ROI.</source>
        <translation>模擬掃描器不需要 ROI。</translation>
    </message>
    <message>
        <location filename="../../app/source/roi_editor.py" line="262"/>
        <source>No picture from this input yet: try again in a moment.</source>
        <translation>此輸入尚無畫面，請稍後再試。</translation>
    </message>
    <message>
        <location filename="../../app/source/roi_editor.py" line="282"/>
        <source>Adjust ROI…</source>
        <translation>調整 ROI…</translation>
    </message>
    <message>
        <location filename="../../app/source/roi_editor.py" line="285"/>
        <source>Choose the part of the scanner&apos;s picture that is segmented and recorded</source>
        <translation>選擇要分割與錄影的掃描畫面區域</translation>
    </message>
    <message>
        <location filename="../../app/export/snapshot.py" line="58"/>
        <source>Nothing is on screen to snapshot yet.</source>
        <translation>畫面上尚無可擷取快照的內容。</translation>
    </message>
    <message>
        <location filename="../../app/export/snapshot.py" line="161"/>
        <source>Snapshot failed: %1</source>
        <translation>快照失敗：%1</translation>
    </message>
    <message>
        <location filename="../../app/export/snapshot.py" line="172"/>
        <source>Snapshot saved: %1</source>
        <translation>已儲存快照：%1</translation>
    </message>
    <message>
        <location filename="../../app/export/snapshot.py" line="174"/>
        <source>Snapshot could not be saved in %1: %2</source>
        <translation>無法將快照儲存於 %1：%2</translation>
    </message>
    <message>
        <location filename="../../app/export/snapshot.py" line="189"/>
        <source>Snapshot</source>
        <translation>快照</translation>
    </message>
    <message>
        <location filename="../../app/export/snapshot.py" line="192"/>
        <source>Save the picture on screen with its figures (S)</source>
        <translation>儲存螢幕畫面與數據（S）</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="252"/>
        <source>Loading model %1…</source>
        <translation>正在載入模型 %1…</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="400"/>
        <source>Model: simulated data</source>
        <translation>模型：模擬資料</translation>
    </message>
    <message>
        <location filename="../../app/folder_choice.py" line="20"/>
        <source>Snapshot folder…</source>
        <translation>快照資料夾…</translation>
    </message>
    <message>
        <location filename="../../app/folder_choice.py" line="20"/>
        <source>Recording folder…</source>
        <translation>錄影資料夾…</translation>
    </message>
    <message>
        <location filename="../../app/folder_choice.py" line="20"/>
        <source>Now: %1</source>
        <translation>目前：%1</translation>
    </message>
    <message>
        <source>Installed %1: choose it in the model picker</source>
        <translation>已安裝 %1：請在模型選單中選擇它</translation>
    </message>
</context>
<context>
    <name>ModelImporter</name>
    <message>
        <location filename="../../app/model_import_action.py" line="22"/>
        <source>Open model…</source>
        <translation>開啟模型…</translation>
    </message>
    <message>
        <location filename="../../app/model_import_action.py" line="29"/>
        <source>Open a model folder (model.json or model.yaml + weights)</source>
        <translation>開啟模型資料夾（model.json 或 model.yaml 加上權重）</translation>
    </message>
    <message>
        <location filename="../../app/model_import_action.py" line="46"/>
        <source>The model in %1 was not added: %2</source>
        <translation>未加入 %1 中的模型：%2</translation>
    </message>
    <message>
        <location filename="../../app/model_import_action.py" line="66"/>
        <source>This model contains code</source>
        <translation>此模型包含程式碼</translation>
    </message>
    <message>
        <location filename="../../app/model_import_action.py" line="67"/>
        <source>The model in %1 is TorchScript: a program that runs on this computer with your permissions whenever the model is used. It could read, change or delete your files. Add it only if you trust where it came from.</source>
        <translation>%1 中的模型是 TorchScript：這是一種程式，每次使用此模型時都會以您的權限在這台電腦上執行，可能讀取、變更或刪除您的檔案。請僅在信任其來源時才加入。</translation>
    </message>
    <message>
        <location filename="../../app/model_import_action.py" line="76"/>
        <source>Trust and add</source>
        <translation>信任並加入</translation>
    </message>
    <message>
        <location filename="../../app/model_import_action.py" line="89"/>
        <source>The model in %1 was not added: it contains code you did not trust.</source>
        <translation>未加入 %1 中的模型：其中包含您未信任的程式碼。</translation>
    </message>
</context>
<context>
    <name>Sources</name>
    <message>
        <location filename="../../app/localize.py" line="1"/>
        <source>Simulated scanner (FAST)</source>
        <translation>模擬掃描器（FAST）</translation>
    </message>
    <message>
        <location filename="../../app/localize.py" line="1"/>
        <source>Clip %1 (%2 frames, %3 fps)</source>
        <translation>影片 %1（%2 幀，%3 fps）</translation>
    </message>
    <message>
        <location filename="../../app/localize.py" line="1"/>
        <source>DICOM %1 (%2 frames, %3 fps)</source>
        <translation>DICOM %1（%2 幀，%3 fps）</translation>
    </message>
    <message>
        <location filename="../../app/localize.py" line="1"/>
        <source>Stream %1</source>
        <translation>串流 %1</translation>
    </message>
    <message>
        <location filename="../../app/localize.py" line="1"/>
        <source>%1 (%2 images)</source>
        <translation>%1（%2 張影像）</translation>
    </message>
</context>
<context>
    <name>OverlayPanel</name>
    <message>
        <location filename="../../app/overlay_panel.py" line="19"/>
        <source>Show overlay</source>
        <translation>顯示疊加</translation>
    </message>
    <message>
        <location filename="../../app/overlay_panel.py" line="20"/>
        <source>Filled masks</source>
        <translation>填色遮罩</translation>
    </message>
    <message>
        <location filename="../../app/overlay_panel.py" line="21"/>
        <source>Outlines</source>
        <translation>輪廓</translation>
    </message>
    <message>
        <location filename="../../app/overlay_panel.py" line="22"/>
        <source>Organ names</source>
        <translation>器官名稱</translation>
    </message>
    <message>
        <location filename="../../app/overlay_panel.py" line="32"/>
        <source>Opacity</source>
        <translation>不透明度</translation>
    </message>
</context>
<context>
    <name>PresenterWindow</name>
    <message>
        <location filename="../../app/teaching/presenter.py" line="16"/>
        <source>SonoLive — presenter view</source>
        <translation>SonoLive — 簡報檢視</translation>
    </message>
</context>
<context>
    <name>QuizWindow</name>
    <message>
        <location filename="../../app/quiz/window.py" line="75"/>
        <source>Quiz — SonoLive (not for diagnostic use)</source>
        <translation>測驗 — SonoLive（非診斷用途）</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="82"/>
        <source>Student name</source>
        <translation>學生姓名</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="93"/>
        <source>green: agreed · blue: missed · red: extra · white line: reference</source>
        <translation>綠：一致 · 藍：遺漏 · 紅：多描 · 白線：參考</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="95"/>
        <source>Submit</source>
        <translation>送出</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="96"/>
        <source>Next frame</source>
        <translation>下一幀</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="97"/>
        <source>Save results (CSV + JSON)…</source>
        <translation>儲存結果（CSV + JSON）…</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="98"/>
        <source>Results for the projector</source>
        <translation>投影用的結果</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="106"/>
        <source>Student</source>
        <translation>學生</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="113"/>
        <source>Organ</source>
        <translation>器官</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="148"/>
        <source>Frame %1 of %2: trace the %3</source>
        <translation>第 %1 幀，共 %2 幀：請描繪%3</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="154"/>
        <source>Reference: the dataset&apos;s mask</source>
        <translation>參考：資料集的遮罩</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="156"/>
        <source>Reference: the MODEL&apos;s mask (not a ground truth)</source>
        <translation>參考：「模型」的遮罩（並非標準答案）</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="178"/>
        <source>student</source>
        <translation>學生</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="180"/>
        <source>Dice %1</source>
        <translation>Dice 係數 %1</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="209"/>
        <source>Save quiz results</source>
        <translation>儲存測驗結果</translation>
    </message>
    <message>
        <location filename="../../app/quiz/window.py" line="220"/>
        <source>Quiz results</source>
        <translation>測驗結果</translation>
    </message>
    <message>
        <source>New student: a clean canvas</source>
        <translation>新學生：畫布已清空</translation>
    </message>
</context>
<context>
    <name>ResultsTable</name>
    <message>
        <location filename="../../app/quiz/window.py" line="56"/>
        <source>Mean Dice</source>
        <translation>平均 Dice</translation>
    </message>
</context>
<context>
    <name>ReviewPanel</name>
    <message>
        <location filename="../../app/review/controller.py" line="48"/>
        <source>%1 · frame %2 / %3</source>
        <translation>%1 · 第 %2 / %3 幀</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="554"/>
        <source>Back one second (Shift+Left)</source>
        <translation>倒退一秒（Shift+←）</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="555"/>
        <source>Previous frame (Left)</source>
        <translation>上一幀（←）</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="556"/>
        <source>Play / pause (Space)</source>
        <translation>播放／暫停（空白鍵）</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="558"/>
        <source>Next frame (Right)</source>
        <translation>下一幀（→）</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="559"/>
        <source>Forward one second (Shift+Right)</source>
        <translation>前進一秒（Shift+→）</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="586"/>
        <source>Loop</source>
        <translation>循環</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="589"/>
        <source>Mark loop start at this frame</source>
        <translation>以此幀為循環起點</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="590"/>
        <source>Mark loop end at this frame</source>
        <translation>以此幀為循環終點</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="592"/>
        <source>Clear A–B</source>
        <translation>清除 A–B</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="592"/>
        <source>Clear the A–B loop</source>
        <translation>清除 A–B 循環</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="603"/>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="663"/>
        <source>A–B loop: frames %1–%2</source>
        <translation>A–B 循環：第 %1–%2 幀</translation>
    </message>
    <message>
        <location filename="../../app/review/controller.py" line="298"/>
        <source>No clip open: File → Open clip…, Recent clips, or drop a file on the window</source>
        <translation>尚未開啟影片：檔案 → 開啟影片…、最近的影片，或將檔案拖放到視窗</translation>
    </message>
</context>
<context>
    <name>RoiEditor</name>
    <message>
        <location filename="../../app/source/roi_editor.py" line="192"/>
        <source>Adjust the ultrasound image area (ROI)</source>
        <translation>調整超音波影像區域（ROI）</translation>
    </message>
    <message>
        <location filename="../../app/source/roi_editor.py" line="204"/>
        <source>Detect again</source>
        <translation>重新偵測</translation>
    </message>
    <message>
        <location filename="../../app/source/roi_editor.py" line="211"/>
        <source>Drag an edge or a corner to fit the rectangle to the ultrasound image; drag outside it to draw a new one. Everything outside is neither segmented nor recorded.</source>
        <translation>拖曳邊或角使矩形符合超音波影像；在矩形外拖曳可重新繪製。矩形外的內容不會被分割或錄影。</translation>
    </message>
    <message>
        <location filename="../../app/source/roi_editor.py" line="227"/>
        <source>set by hand</source>
        <translation>手動設定</translation>
    </message>
    <message>
        <location filename="../../app/source/roi_editor.py" line="227"/>
        <source>detected</source>
        <translation>已偵測</translation>
    </message>
    <message>
        <location filename="../../app/source/roi_editor.py" line="229"/>
        <source>ROI %1×%2 at (%3, %4), now %5</source>
        <translation>ROI %1×%2 位於 (%3, %4)，目前 %5</translation>
    </message>
    <message>
        <location filename="../../app/source/roi_editor.py" line="234"/>
        <source>full picture</source>
        <translation>完整畫面</translation>
    </message>
</context>
<context>
    <name>StatusLine</name>
    <message>
        <location filename="../../app/status_line.py" line="19"/>
        <source>Simulated data</source>
        <translation>模擬資料</translation>
    </message>
    <message>
        <location filename="../../app/status_line.py" line="23"/>
        <source>Not for diagnostic use</source>
        <translation>非診斷用途</translation>
    </message>
    <message>
        <location filename="../../app/status_line.py" line="41"/>
        <source>%1 fps</source>
        <translation>%1 fps</translation>
    </message>
    <message>
        <location filename="../../app/status_line.py" line="43"/>
        <source>latency p50 %1 ms · p95 %2 ms</source>
        <translation>延遲 p50 %1 ms · p95 %2 ms</translation>
    </message>
    <message>
        <location filename="../../app/status_line.py" line="47"/>
        <source>dropped %1</source>
        <translation>丟棄 %1</translation>
    </message>
</context>
<context>
    <name>TrainDialog</name>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="39"/>
        <source>Train from this dataset</source>
        <translation>以此資料集訓練</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="46"/>
        <source>Ready</source>
        <translation>就緒</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="52"/>
        <source>Start</source>
        <translation>開始</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="53"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="54"/>
        <source>Install as a new model version</source>
        <translation>安裝為新的模型版本</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="64"/>
        <source>Dataset: %1</source>
        <translation>資料集：%1</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="99"/>
        <source>Running: %1</source>
        <translation>執行中：%1</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="128"/>
        <source>error: could not start %1</source>
        <translation>錯誤：無法啟動 %1</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="139"/>
        <source>%1 stopped (exit %2); nothing was trained on broken data</source>
        <translation>%1 已停止（結束代碼 %2）；未以損壞的資料進行訓練</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="152"/>
        <location filename="../../app/annotate/train_dialog.py" line="195"/>
        <source>error: %1</source>
        <translation>錯誤：%1</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="161"/>
        <source>Held-out: %1</source>
        <translation>保留驗證集：%1</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="168"/>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="168"/>
        <source>Failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="168"/>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="180"/>
        <source>Installing…</source>
        <translation>安裝中…</translation>
    </message>
    <message>
        <location filename="../../app/annotate/train_dialog.py" line="198"/>
        <source>Installed as %1</source>
        <translation>已安裝為 %1</translation>
    </message>
    <message>
        <source>Training steps</source>
        <translation>訓練步數</translation>
    </message>
    <message>
        <source>Estimated time: %1 on this computer</source>
        <translation>預估時間：在此電腦上%1</translation>
    </message>
    <message>
        <source>Running: train, %1 left</source>
        <translation>執行中：訓練，剩餘%1</translation>
    </message>
    <message>
        <source>Training needs at least %1 annotated frames from at least %2 different clips or images: the frames of one clip are held out to measure the result, and training keeps one of its own frames to choose the best checkpoint.</source>
        <translation>訓練至少需要 %1 張已標註的畫面，且來自至少 %2 個不同的片段或影像：其中一個片段的畫面會保留下來以評估結果，訓練也會保留自己的一張畫面來選出最佳的檢查點。</translation>
    </message>
    <message>
        <source>This dataset: %1 frames from %2 sources.</source>
        <translation>此資料集：%1 張畫面，來自 %2 個來源。</translation>
    </message>
    <message>
        <source>about %1 s</source>
        <translation>約 %1 秒</translation>
    </message>
    <message>
        <source>about %1 min</source>
        <translation>約 %1 分鐘</translation>
    </message>
</context>
<context>
    <name>GateLines</name>
    <message>
        <location filename="../../inference/gate/ood.py" line="375"/>
        <source>Picture unlike this model's training data - overlay hidden</source>
        <translation>畫面與此模型的訓練資料不同，已隱藏疊加</translation>
    </message>
    <message>
        <location filename="../../inference/gate/ood.py" line="375"/>
        <source>(trained on %1)</source>
        <translation>（訓練資料：%1）</translation>
    </message>
    <message>
        <location filename="../../inference/gate/ood.py" line="375"/>
        <source>Outside training data - shown anyway</source>
        <translation>超出訓練資料範圍，仍顯示</translation>
    </message>
    <message>
        <location filename="../../inference/gate/ood.py" line="375"/>
        <source>simulated images</source>
        <translation>模擬影像</translation>
    </message>
    <message>
        <location filename="../../inference/gate/ood.py" line="375"/>
        <source>real images</source>
        <translation>真實影像</translation>
    </message>
    <message>
        <location filename="../../inference/gate/ood.py" line="375"/>
        <source>real images: %1</source>
        <translation>真實影像：%1</translation>
    </message>
    <message>
        <location filename="../../inference/gate/ood.py" line="375"/>
        <source>not stated</source>
        <translation>未註明</translation>
    </message>
</context>
<context>
    <name>Exam</name>
    <message>
        <source>%1 answered the echo</source>
        <translation>%1 已回應連線測試</translation>
    </message>
    <message>
        <source>%1 objects wait for the PACS (retrying): %2</source>
        <translation>%1 個物件等待傳送至 PACS（重試中）：%2</translation>
    </message>
    <message>
        <source>%1 scheduled exams</source>
        <translation>%1 筆排程檢查</translation>
    </message>
    <message>
        <source>Accession</source>
        <translation>檢查單號</translation>
    </message>
    <message>
        <source>All objects are stored in the PACS</source>
        <translation>所有物件皆已存入 PACS</translation>
    </message>
    <message>
        <source>Confirm (Enter)</source>
        <translation>確認（Enter）</translation>
    </message>
    <message>
        <source>Confirm the suggested view</source>
        <translation>確認建議的切面</translation>
    </message>
    <message>
        <source>De-identified (teaching): no identity, ROI only</source>
        <translation>去識別化（教學）：無身分資料，僅 ROI</translation>
    </message>
    <message>
        <source>E&amp;xam</source>
        <translation>檢查(&amp;X)</translation>
    </message>
    <message>
        <source>Family^Given</source>
        <translation>姓^名</translation>
    </message>
    <message>
        <source>Finding: %1</source>
        <translation>發現：%1</translation>
    </message>
    <message>
        <source>Finish and send</source>
        <translation>完成並傳送</translation>
    </message>
    <message>
        <source>Fluid</source>
        <translation>有積液</translation>
    </message>
    <message>
        <source>Indeterminate</source>
        <translation>無法判定</translation>
    </message>
    <message>
        <source>LUQ</source>
        <translation>左上腹 (LUQ)</translation>
    </message>
    <message>
        <source>Left lung</source>
        <translation>左肺</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>New exam</source>
        <translation>新檢查</translation>
    </message>
    <message>
        <source>No PACS set (PACS settings…)</source>
        <translation>尚未設定 PACS（PACS 設定…）</translation>
    </message>
    <message>
        <source>No fluid</source>
        <translation>無積液</translation>
    </message>
    <message>
        <source>No picture yet</source>
        <translation>尚無影像</translation>
    </message>
    <message>
        <source>No suggestion</source>
        <translation>無建議</translation>
    </message>
    <message>
        <source>No worklist set (PACS settings…)</source>
        <translation>尚未設定工作清單（PACS 設定…）</translation>
    </message>
    <message>
        <source>Our AE title</source>
        <translation>本機 AE 名稱</translation>
    </message>
    <message>
        <source>PACS (AE title@host:port)</source>
        <translation>PACS（AE 名稱@主機:連接埠）</translation>
    </message>
    <message>
        <source>PACS settings</source>
        <translation>PACS 設定</translation>
    </message>
    <message>
        <source>PACS settings…</source>
        <translation>PACS 設定…</translation>
    </message>
    <message>
        <source>Patient</source>
        <translation>病人</translation>
    </message>
    <message>
        <source>Patient ID</source>
        <translation>病歷號</translation>
    </message>
    <message>
        <source>Pelvis sagittal</source>
        <translation>骨盆矢狀切面</translation>
    </message>
    <message>
        <source>Pelvis transverse</source>
        <translation>骨盆橫切面</translation>
    </message>
    <message>
        <source>Press New exam or a view to start</source>
        <translation>按「新檢查」或任一切面開始</translation>
    </message>
    <message>
        <source>RUQ</source>
        <translation>右上腹 (RUQ)</translation>
    </message>
    <message>
        <source>Record this view now (the last seconds and this frame)</source>
        <translation>立即記錄此切面（最近數秒與目前畫面）</translation>
    </message>
    <message>
        <source>Report written: %1</source>
        <translation>報告已寫入：%1</translation>
    </message>
    <message>
        <source>Right lung</source>
        <translation>右肺</translation>
    </message>
    <message>
        <source>Sending %1 objects to %2…</source>
        <translation>正在傳送 %1 個物件至 %2…</translation>
    </message>
    <message>
        <source>Sliding absent</source>
        <translation>無肺滑動</translation>
    </message>
    <message>
        <source>Sliding present</source>
        <translation>有肺滑動</translation>
    </message>
    <message>
        <source>Subxiphoid</source>
        <translation>劍突下</translation>
    </message>
    <message>
        <source>Suggested: %1 (%2)</source>
        <translation>建議：%1（%2）</translation>
    </message>
    <message>
        <source>Test connection (C-ECHO)</source>
        <translation>測試連線（C-ECHO）</translation>
    </message>
    <message>
        <source>Testing…</source>
        <translation>測試中…</translation>
    </message>
    <message>
        <source>The exam could not be written: %1</source>
        <translation>無法寫入檢查：%1</translation>
    </message>
    <message>
        <source>Views done %1/%2</source>
        <translation>已完成切面 %1/%2</translation>
    </message>
    <message>
        <source>Worklist</source>
        <translation>工作清單</translation>
    </message>
    <message>
        <source>Worklist (AE title@host:port)</source>
        <translation>工作清單（AE 名稱@主機:連接埠）</translation>
    </message>
    <message>
        <source>Writing the report and the DICOM objects…</source>
        <translation>正在寫入報告與 DICOM 物件…</translation>
    </message>
    <message>
        <source>eFAST exam</source>
        <translation>eFAST 檢查</translation>
    </message>
    <message>
        <source>empty: the PACS above</source>
        <translation>空白：使用上方的 PACS</translation>
    </message>
</context>
</TS>
